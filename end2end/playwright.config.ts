import { defineConfig } from '@playwright/test';
import path from 'node:path';

// The server under test: a fresh process on an in-memory database, simulated Zoom, mail
// written as files the specs read, and a short refresh period for pending appointments.
// With WALKTHROUGH_URL, only the README's walk-through runs, against a server already
// running there (`make cold-start` points it at the one `make run` started).
const root = path.resolve(__dirname, '..');
const port = Number(process.env.E2E_PORT ?? 3100);
const external = process.env.WALKTHROUGH_URL;
export const baseURL = external ?? `http://127.0.0.1:${port}`;
export const mailDir = path.join(__dirname, '.mail');

export default defineConfig({
  testDir: './tests',
  testMatch: external ? 'walkthrough.spec.ts' : undefined,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  // The JSON report feeds `report-failures.mjs`, which `make test` prints last on a failure.
  reporter: [['list'], ['json', { outputFile: 'test-results/report.json' }]],
  outputDir: 'test-results',
  use: {
    baseURL,
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: external ? undefined : {
    command: process.env.SERVER_BIN ?? path.join(root, 'target/debug/specialistly'),
    cwd: root,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    env: {
      DATABASE_URL: 'mem://',
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: process.env.SITE_ROOT ?? path.join(root, 'target/site'),
      LEPTOS_OUTPUT_NAME: 'specialistly',
      LEPTOS_ENV: 'DEV',
      DATA_DIR: path.join(__dirname, '.data'),
      MAIL_DIR: mailDir,
      OUTBOX_POLL_MILLIS: '200',
      APPOINTMENT_REFRESH_SECONDS: '2',
      SEED_DEMO_DATA: 'true',
      ZOOM_WEBHOOK_SECRET_TOKEN: 'e2e-zoom-webhook-secret',
      // Every spec signs up from 127.0.0.1; the per-address cap is tested in the API suite.
      AUTH_RATE_PER_IP_PER_MINUTE: '100000',
      // As the server's own default: the SDK's failing kill of a dropped live query (ours ends
      // it) is no warning.
      RUST_LOG: 'info,surrealdb=warn,surrealdb::method::live=error',
    },
  },
});
