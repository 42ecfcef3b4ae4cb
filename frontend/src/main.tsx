import "@mantine/core/styles.css";
import "@mantine/dates/styles.css";
import "@mantine/notifications/styles.css";

import { Alert, Center, MantineProvider } from "@mantine/core";
import { ModalsProvider } from "@mantine/modals";
import { Notifications } from "@mantine/notifications";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";

import { ApiError } from "./api/errors";
import { App } from "./App";
import { SessionProvider } from "./auth/SessionProvider";
import { loadConfig } from "./config";
import { theme } from "./theme";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // 4xx answers do not get better by asking again.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
      staleTime: 2_000,
    },
  },
});

const root = createRoot(document.getElementById("root")!);

loadConfig()
  .then((config) =>
    root.render(
      <StrictMode>
        <MantineProvider theme={theme} defaultColorScheme="light">
          <Notifications position="top-right" />
          <ModalsProvider>
            <QueryClientProvider client={queryClient}>
              <BrowserRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
                <SessionProvider config={config}>
                  <App />
                </SessionProvider>
              </BrowserRouter>
            </QueryClientProvider>
          </ModalsProvider>
        </MantineProvider>
      </StrictMode>,
    ),
  )
  .catch((error: unknown) =>
    root.render(
      <MantineProvider theme={theme}>
        <Center h="100vh">
          <Alert color="red" title="The portal is not configured" role="alert">
            {String(error instanceof Error ? error.message : error)}
          </Alert>
        </Center>
      </MantineProvider>,
    ),
  );
