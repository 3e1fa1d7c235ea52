import { test, expect } from './fixtures';
import { baseURL } from '../playwright.config';
import { register } from './helpers';
import type { Page } from '@playwright/test';

/** Swagger UI's block of the operation `id`. */
function operation(page: Page, id: string) {
  return page.locator('.opblock').filter({
    has: page.locator('.opblock-summary-operation-id', { hasText: new RegExp(`^${id}$`) }),
  });
}

test('the API reference lists every operation from the served document and fetches nothing from elsewhere', async ({ page, request }) => {
  const document = await (await request.get('/api/openapi.json')).json();
  const operations = Object.values(document.paths as Record<string, Record<string, { operationId: string }>>)
    .flatMap((item) => Object.values(item).map((op) => op.operationId));
  expect(operations.length).toBeGreaterThan(40);

  const elsewhere: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(baseURL) && !r.url().startsWith('data:')) elsewhere.push(r.url());
  });
  await page.goto('/api/docs');
  await expect(page.getByRole('heading', { name: /Specialistly API/ })).toBeVisible();
  for (const id of ['bookSlot', 'createZoomMeeting', 'createWebhookEndpoint', 'createApiToken']) {
    await expect(operation(page, id)).toBeVisible();
  }
  await expect(page.locator('.opblock')).toHaveCount(operations.length);

  // An operation opens with its parameters and its documented answers.
  await operation(page, 'bookSlot').locator('.opblock-summary').click();
  const book = operation(page, 'bookSlot');
  await expect(book.locator('.parameter__name', { hasText: 'Idempotency-Key' })).toBeVisible();
  await expect(book.locator('.response[data-code="409"]')).toBeVisible();
  expect(elsewhere).toEqual([]);
});

test('"Try it out" with an API token reaches the API', async ({ page, request }) => {
  const customer = await register(request, 'customer', 'Docs Reader');
  const made = await request.post('/api/tokens', {
    headers: { Authorization: `Bearer ${customer.token}` },
    data: { name: 'Docs', scopes: ['read'] },
  });
  expect(made.status()).toBe(201);
  const apiToken: string = (await made.json()).data.token;
  await page.goto('/api/docs');
  await page.getByRole('button', { name: 'Authorize' }).click();
  await page.locator('.auth-container input').fill(apiToken);
  await page.getByRole('button', { name: 'Apply credentials' }).click();
  await page.getByRole('button', { name: 'Close' }).click();

  await operation(page, 'getMe').locator('.opblock-summary').click();
  const me = operation(page, 'getMe');
  await me.getByRole('button', { name: 'Try it out' }).click();
  await me.getByRole('button', { name: 'Execute' }).click();
  await expect(me.locator('.live-responses-table tbody .response-col_status').first()).toHaveText('200');
  await expect(me.locator('.live-responses-table tbody .microlight').first()).toContainText('Docs Reader');
});
