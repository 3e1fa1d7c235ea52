import { test, expect } from './fixtures';
import type { Page } from '@playwright/test';
import { PASSWORD, book, createSlot, open, register, signIn } from './helpers';

/** The built assets (`/pkg/…`) a page loads, with their Cache-Control. */
function watchAssets(page: Page) {
  const assets: { path: string; cacheControl: string }[] = [];
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/pkg/')) assets.push({ path, cacheControl: r.headers()['cache-control'] ?? '' });
  });
  return assets;
}

test('assets carry content hashes and are cached for good', async ({ page }) => {
  const assets = watchAssets(page);
  // The login page has an island (its form), so it loads the wasm bundle.
  await open(page, '/login');
  const kinds = assets.map((a) => a.path.split('.').pop());
  expect(kinds).toEqual(expect.arrayContaining(['css', 'js', 'wasm']));
  for (const a of assets) {
    expect(a.path, 'a content hash in the name').toMatch(/^\/pkg\/specialistly\.[A-Za-z0-9_-]{16,}\.(css|js|wasm)$/);
    expect(a.cacheControl).toBe('public, max-age=31536000, immutable');
  }
});

test('a page without islands loads no wasm: the slots for a visitor and a specialist page', async ({ page, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Light');
  const handle = `dr-light-${Date.now().toString(36)}`;
  const auth = { Authorization: `Bearer ${specialist.token}` };
  expect((await request.put('/api/profile/page', { headers: auth, data: { handle } })).status()).toBe(200);
  const assets = watchAssets(page);
  for (const path of ['/slots', `/s/${handle}`]) {
    assets.length = 0;
    await open(page, path);
    expect(assets.map((a) => a.path.split('.').pop()), path).toEqual(['css']);
  }
  // Its links and forms work as they are: a visitor's Book link leads to log in.
  await open(page, '/slots');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
});

test('times rendered in the browser read the same as the server-rendered ones', async ({ page, request, context }) => {
  const specialist = await register(request, 'specialist', 'Dr. Clock');
  const customer = await register(request, 'customer', 'Tim Zone');
  // Far ahead, so they do not push other specs' slots off the first page of /slots.
  const slot = await createSlot(request, specialist, { hours: 24 * 40, title: 'A session across zones' });
  const later = await createSlot(request, specialist, { hours: 24 * 40 + 7, title: 'A later session across zones' });
  await book(request, customer, slot.id);
  await book(request, customer, later.id);
  await signIn(context, customer);

  // Server-rendered: a full load of the later appointment.
  await open(page, `/appointments/${later.id}/0`);
  const served = {
    date: await page.getByTestId('appt-date').innerText(),
    time: await page.getByTestId('appt-time').innerText(),
  };
  expect(served.time).toMatch(/^\d\d:\d\d \(Europe\/Berlin\)$/);
  const laterView = await page.request.post('/api/appointment', { form: { slot_id: later.id, booking_index: '0' } });
  expect(laterView.status()).toBe(200);
  const laterBody = await laterView.text();

  // Rendered by the wasm island (its own Intl, no time-zone database): on the first
  // appointment's page, "Refresh to Check" is answered with the later appointment.
  await open(page, `/appointments/${slot.id}/0`);
  await expect(page.getByTestId('appt-time')).not.toHaveText(served.time);
  await page.route('**/api/appointment*', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: laterBody }),
  );
  await page.getByRole('button', { name: 'Refresh to Check' }).click();
  await expect(page.getByTestId('appt-time')).toHaveText(served.time);
  await expect(page.getByTestId('appt-date')).toHaveText(served.date);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(later.title);
});

test('a page whose wasm bundle cannot load says so, and still logs in as plain HTML', async ({ page, request }) => {
  const user = await register(request, 'customer', 'Nora Network');
  await page.route('**/*.wasm', (route) => route.abort('connectionreset'));
  await page.goto('/login');
  await expect(page.locator('html')).toHaveAttribute('data-hydration-failed', /.+/);
  await expect(page.locator('html')).not.toHaveAttribute('data-hydrated', '');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('nav-user')).toHaveText('Nora Network');
});
