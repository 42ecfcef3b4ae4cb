import { Button, Center, Stack, Text, Title } from "@mantine/core";
import { Link, Navigate, Route, Routes } from "react-router-dom";

import { useSession } from "./auth/SessionProvider";
import { AppLayout } from "./layout/AppLayout";
import { allRoutes } from "./pages";
import { audienceOf, visibleRoutes } from "./routing";

function NotFound() {
  return (
    <Center py="xl">
      <Stack align="center">
        <Title order={3}>Page not found</Title>
        <Text c="dimmed">There is no page at this address, or your role may not open it.</Text>
        <Button component={Link} to="/">
          Go to the start page
        </Button>
      </Stack>
    </Center>
  );
}

export function App() {
  const { role } = useSession();
  const routes = visibleRoutes(allRoutes, role);
  const home = audienceOf(role) === "operator" ? "/noc" : "/dashboard";
  return (
    <Routes>
      <Route element={<AppLayout routes={routes} />}>
        <Route index element={<Navigate to={home} replace />} />
        <Route path="auth/callback" element={<Navigate to={home} replace />} />
        {routes.map((r) => (
          <Route key={r.path} path={r.path} element={r.element} />
        ))}
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
