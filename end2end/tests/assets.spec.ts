import { test, expect } from './fixtures';
import { book, createSlot, open, register, signIn } from './helpers';

test('assets carry content hashes and are cached for good', async ({ page }) => {
  const assets: { url: string; cacheControl: string }[] = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/pkg/')) {
      assets.push({ url: r.url(), cacheControl: r.headers()['cache-control'] ?? '' });
    }
  });
  await open(page, '/slots');
  const kinds = assets.map((a) => new URL(a.url).pathname.split('.').pop());
  expect(kinds).toEqual(expect.arrayContaining(['css', 'js', 'wasm']));
  for (const a of assets) {
    expect(new URL(a.url).pathname, 'a content hash in the name').toMatch(/^\/pkg\/specialistly\.[A-Za-z0-9_-]{16,}\.(css|js|wasm)$/);
    expect(a.cacheControl).toBe('public, max-age=31536000, immutable');
  }
});

test('times rendered in the browser read the same as the server-rendered ones', async ({ page, request, context }) => {
  const specialist = await register(request, 'specialist', 'Dr. Clock');
  const customer = await register(request, 'customer', 'Tim Zone');
  // Far ahead, so it does not push other specs' slots off the first page of /slots.
  const slot = await createSlot(request, specialist, { hours: 24 * 40, title: 'A session across zones' });
  await book(request, customer, slot.id);
  await signIn(context, customer);

  // Server-rendered: a full load of the appointment.
  await open(page, `/appointments/${slot.id}/0`);
  const served = {
    date: await page.getByTestId('appt-date').innerText(),
    time: await page.getByTestId('appt-time').innerText(),
  };
  expect(served.time).toMatch(/^\d\d:\d\d \(Europe\/Berlin\)$/);

  // Rendered by the wasm client (its own Intl, no time-zone database): navigate to it.
  await open(page, '/appointments');
  const listed = await page.locator('.when').first().innerText();
  expect(listed).toBe(`${served.date}, ${served.time}`);
  await page.locator(`a[href="/appointments/${slot.id}/0"]`).first().click();
  await expect(page.getByTestId('appt-time')).toHaveText(served.time);
  await expect(page.getByTestId('appt-date')).toHaveText(served.date);
});
