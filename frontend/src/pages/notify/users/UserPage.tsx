import { Anchor, Badge, Group, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";

import { unwrap } from "../../../api/client";
import { ROLE_LABELS } from "../../../auth/roles";
import { useApi, useSession } from "../../../auth/SessionProvider";
import { PageHeader } from "../../../components/PageHeader";
import { ProblemAlert } from "../../../components/QueryState";
import { PersonSettings } from "./PersonSettings";

/** One user's contact methods and personal notification policy (administrators, or the person: /users/me). */
export function UserPage() {
  const { username = "me" } = useParams();
  const api = useApi();
  const { canWrite, principal } = useSession();
  const self = username === "me" || username === principal.username;
  const person = useQuery({
    queryKey: ["users", "one", username],
    queryFn: () => unwrap(api.GET("/api/v1/users/{username}", { params: { path: { username } } })),
    enabled: canWrite && username !== "me",
  });
  const title = person.data?.email ?? (self ? (principal.email ?? principal.username) : username);
  return (
    <>
      <PageHeader
        title={title}
        description={
          <>
            <Anchor component={Link} to="/users" size="sm">
              Users
            </Anchor>{" "}
            · how escalation steps page {self ? "you" : "this person"}
          </>
        }
      />
      {person.data && (
        <Group gap="xs" mb="md">
          <Badge variant="light">{ROLE_LABELS[person.data.role]}</Badge>
          {!person.data.enabled && <Badge color="gray">disabled</Badge>}
        </Group>
      )}
      {person.isError && <ProblemAlert error={person.error} />}
      {!person.isError && (self || canWrite) && <PersonSettings username={self ? "me" : username} />}
      {!self && !canWrite && <Text c="dimmed">Only administrators manage another person&apos;s contact methods and policy.</Text>}
    </>
  );
}
