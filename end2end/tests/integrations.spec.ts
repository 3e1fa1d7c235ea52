import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect } from './fixtures';
import { book, createSlot, open, register, screenshot, signIn } from './helpers';

/** A webhook receiver on this machine that records what it is sent and answers 200. */
async function receiver() {
  const received: { id: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ id: String(req.headers['webhook-id']), body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hooks`, received, close: () => server.close() };
}

test('a specialist makes an API token and a webhook endpoint, and replays a delivery from its log', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Hooks');
  const hooks = await receiver();
  try {
    await signIn(context, specialist);
    await open(page, '/integrations');
    await expect(page.getByRole('heading', { name: 'Integrations' })).toBeVisible();

    const tokens = page.getByTestId('api-tokens');
    await tokens.getByTestId('token-name').fill('Reporting');
    await tokens.getByRole('button', { name: 'Create token' }).click();
    await expect(tokens.getByTestId('new-token')).toContainText('spt_');
    await expect(tokens.getByTestId('token-row')).toContainText('Reporting');
    await expect(tokens.getByTestId('token-row')).toContainText('read');

    const webhooks = page.getByTestId('webhooks');
    await webhooks.getByTestId('webhook-url').fill(hooks.url);
    await webhooks.getByRole('button', { name: 'Add endpoint' }).click();
    await expect(webhooks.getByTestId('webhook-secret')).toContainText('whsec_');
    await expect(webhooks.getByTestId('webhook-endpoint')).toContainText(hooks.url);

    // Far ahead, so it does not crowd the first page of /slots for the other specs.
    const slot = await createSlot(request, specialist, { title: 'Hooked session', hours: 24 * 40 });
    await book(request, await register(request, 'customer', 'Hana Hook'), slot.id);
    await expect.poll(() => hooks.received.length, { timeout: 10_000 }).toBe(1);
    expect(JSON.parse(hooks.received[0].body).type).toBe('booking.created');

    const endpoint = webhooks.getByTestId('webhook-endpoint');
    await endpoint.getByTestId('delivery-log-toggle').click();
    const row = endpoint.getByTestId('delivery-row');
    await expect(row).toContainText('booking.created');
    await expect(row).toContainText('delivered (1 attempt)');
    await screenshot(page, 'integrations');
    await row.getByRole('button', { name: 'Replay' }).click();
    await expect.poll(() => hooks.received.length, { timeout: 10_000 }).toBe(2);
    expect(hooks.received[1].id).toBe(hooks.received[0].id);
  } finally {
    hooks.close();
  }
});
