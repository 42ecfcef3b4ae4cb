import { AppShell, Badge, Burger, Group, Menu, NavLink, ScrollArea, Stack, Text, UnstyledButton } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { IconChevronDown, IconLogout } from "@tabler/icons-react";
import { useState } from "react";
import { NavLink as RouterLink, Outlet, useLocation } from "react-router-dom";

import { ROLE_LABELS } from "../auth/roles";
import { useSession } from "../auth/SessionProvider";
import { NAV_GROUPS, audienceOf, type AppRoute } from "../routing";
import { ChromeContext } from "./chrome";

export function AppLayout({ routes }: { routes: AppRoute[] }) {
  const session = useSession();
  const [opened, { toggle, close }] = useDisclosure();
  const [hidden, setHidden] = useState(false);
  const location = useLocation();
  const audience = audienceOf(session.role);
  const navRoutes = routes.filter((r) => r.nav).sort((a, b) => a.nav!.order - b.nav!.order);

  return (
    <ChromeContext.Provider value={{ hidden, setHidden }}>
      <AppShell
        header={{ height: 56, collapsed: hidden }}
        navbar={{ width: 232, breakpoint: "md", collapsed: { mobile: !opened || hidden, desktop: hidden } }}
        padding={hidden ? 0 : "md"}
      >
        <AppShell.Header>
          <Group h="100%" px="md" justify="space-between" wrap="nowrap">
            <Group gap="sm" wrap="nowrap">
              <Burger opened={opened} onClick={toggle} hiddenFrom="md" size="sm" aria-label="Toggle navigation" />
              <Text fw={700} size="lg" c="blue.7">
                Pulse
              </Text>
              {session.principal.tenant_id && (
                <Badge variant="outline" data-testid="tenant-badge">
                  {session.principal.tenant_id}
                </Badge>
              )}
            </Group>
            <Menu position="bottom-end" withinPortal>
              <Menu.Target>
                <UnstyledButton aria-label="Account menu">
                  <Group gap={6} wrap="nowrap">
                    <Stack gap={0} align="flex-end">
                      <Text size="sm" fw={500}>
                        {session.principal.email ?? session.principal.username}
                      </Text>
                      <Text size="xs" c="dimmed" data-testid="role-label">
                        {ROLE_LABELS[session.role]}
                      </Text>
                    </Stack>
                    <IconChevronDown size={14} />
                  </Group>
                </UnstyledButton>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Item leftSection={<IconLogout size={14} />} onClick={() => void session.signOut()}>
                  Sign out
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </AppShell.Header>
        <AppShell.Navbar p="xs" aria-label="Main navigation">
          <ScrollArea>
            {NAV_GROUPS[audience].map((group) => {
              const entries = navRoutes.filter((r) => r.nav!.group === group);
              if (entries.length === 0) return null;
              return (
                <Stack key={group} gap={0} mb="sm">
                  <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" py={4}>
                    {group}
                  </Text>
                  {entries.map((r) => {
                    const Icon = r.nav!.icon;
                    const to = `/${r.path}`;
                    return (
                      <NavLink
                        key={r.path}
                        component={RouterLink}
                        to={to}
                        label={r.nav!.label}
                        leftSection={<Icon size={16} stroke={1.5} />}
                        active={location.pathname === to || location.pathname.startsWith(`${to}/`)}
                        onClick={close}
                      />
                    );
                  })}
                </Stack>
              );
            })}
          </ScrollArea>
        </AppShell.Navbar>
        <AppShell.Main>
          <Outlet />
        </AppShell.Main>
      </AppShell>
    </ChromeContext.Provider>
  );
}
