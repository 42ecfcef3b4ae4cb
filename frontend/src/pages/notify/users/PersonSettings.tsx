import { Card, SimpleGrid } from "@mantine/core";

import { ContactMethods } from "./ContactMethods";
import { PersonalPolicy } from "./PersonalPolicy";

/** A person's contact methods and notification policy (``username`` may be "me"). */
export function PersonSettings({ username }: { username: string }) {
  return (
    <SimpleGrid cols={{ base: 1, lg: 2 }}>
      <Card withBorder>
        <ContactMethods username={username} />
      </Card>
      <Card withBorder>
        <PersonalPolicy username={username} />
      </Card>
    </SimpleGrid>
  );
}
