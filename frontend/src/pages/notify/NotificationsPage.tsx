import { Tabs } from "@mantine/core";
import { useSearchParams } from "react-router-dom";

import { PageHeader } from "../../components/PageHeader";
import { ChannelsTab } from "./channels/ChannelsTab";
import { DeadLettersTab } from "./deliveries/DeadLettersTab";
import { DeliveriesTab } from "./deliveries/DeliveriesTab";
import { RoutesTab } from "./routing/RoutesTab";

const TABS = ["channels", "routes", "deliveries", "dead-letters"] as const;

export function NotificationsPage() {
  const [params, setParams] = useSearchParams();
  const asked = params.get("tab");
  const tab = TABS.includes(asked as (typeof TABS)[number]) ? asked! : "channels";
  return (
    <>
      <PageHeader title="Notifications" description="Channels, the routes that pick them, and what was delivered." />
      <Tabs value={tab} onChange={(value) => setParams(value && value !== "channels" ? { tab: value } : {}, { replace: true })} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="channels">Channels</Tabs.Tab>
          <Tabs.Tab value="routes">Routes</Tabs.Tab>
          <Tabs.Tab value="deliveries">Delivery log</Tabs.Tab>
          <Tabs.Tab value="dead-letters">Dead letters</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="channels">
          <ChannelsTab />
        </Tabs.Panel>
        <Tabs.Panel value="routes">
          <RoutesTab />
        </Tabs.Panel>
        <Tabs.Panel value="deliveries">
          <DeliveriesTab />
        </Tabs.Panel>
        <Tabs.Panel value="dead-letters">
          <DeadLettersTab />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
