import { APIRequestContext, BrowserContext, Page, expect } from '@playwright/test';
import { simpleParser, ParsedMail } from 'mailparser';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { baseURL, mailDir } from '../playwright.config';

export const PASSWORD = 'e2e-password';
const shots = path.join(__dirname, '..', 'test-results', 'screenshots');

export type User = { token: string; id: string; name: string; email: string };

let counter = 0;
function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

export async function register(request: APIRequestContext, role: 'customer' | 'specialist', name: string): Promise<User> {
  const email = `${unique(role)}@example.com`;
  const res = await request.post('/api/auth/register', {
    data: { name, email, password: PASSWORD, role, timezone: 'Europe/Berlin' },
  });
  expect(res.status()).toBe(201);
  const body = await res.json();
  return { token: body.data.token, id: body.data.user.id, name, email };
}

/** Signs the browser in as `user` (the same cookie a login sets). */
export async function signIn(context: BrowserContext, user: User) {
  await context.clearCookies();
  await context.addCookies([{ name: 'specialistly_token', value: user.token, url: baseURL }]);
}

export async function createSlot(request: APIRequestContext, specialist: User, opts: { hours?: number; capacity?: number; title?: string } = {}) {
  const at = new Date(Date.now() + (opts.hours ?? 48) * 3600_000);
  const res = await request.post('/api/consulting-slots', {
    headers: { Authorization: `Bearer ${specialist.token}` },
    data: {
      date: at.toISOString().slice(0, 10),
      startTime: at.toISOString().slice(11, 16),
      duration: 45,
      capacity: opts.capacity ?? 3,
      title: opts.title ?? unique('Session'),
      timezone: 'UTC',
    },
  });
  expect(res.status()).toBe(201);
  return (await res.json()).data as { id: string; title: string };
}

export async function book(request: APIRequestContext, customer: User, slotId: string): Promise<number> {
  const res = await request.post(`/api/consulting-slots/${slotId}/book`, {
    headers: { Authorization: `Bearer ${customer.token}` },
    data: {},
  });
  expect(res.status()).toBe(201);
  return (await res.json()).data.bookingIndex;
}

export async function mails(): Promise<ParsedMail[]> {
  if (!fs.existsSync(mailDir)) return [];
  const files = fs.readdirSync(mailDir).filter((f) => f.endsWith('.eml'));
  return Promise.all(files.map((f) => simpleParser(fs.readFileSync(path.join(mailDir, f)))));
}

export function recipient(m: ParsedMail): string {
  const to = Array.isArray(m.to) ? m.to[0] : m.to;
  return to?.value[0]?.address ?? '';
}

/** Waits until an email to `to` whose subject starts with `subject` has been delivered. */
export async function waitForMail(to: string, subject: string, timeoutMs = 15_000): Promise<ParsedMail> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = (await mails()).find((m) => recipient(m) === to && (m.subject ?? '').startsWith(subject));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no email "${subject}…" to ${to} within ${timeoutMs} ms`);
}

export async function countMails(to: string, subject: string): Promise<number> {
  return (await mails()).filter((m) => recipient(m) === to && (m.subject ?? '').startsWith(subject)).length;
}

export async function screenshot(page: Page, name: string) {
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

/** Opens `url` and waits until the wasm bundle has loaded and hydrated the page's islands. */
export async function open(page: Page, url: string) {
  await page.goto(url);
  await hydrated(page);
}

/**
 * Waits until the page now shown (after `goto`, or a click that loaded `url`) is live. Not
 * "network idle": pages that listen to the server's event stream keep a request open for good.
 */
export async function hydrated(page: Page, url?: RegExp) {
  if (url) await page.waitForURL(url);
  await page.locator('html[data-hydrated], html[data-hydration-failed]').waitFor({ state: 'attached' });
  await failedHydration(page);
  await page.waitForLoadState('load');
}

/** Throws with the island loader's reason when the page could not load its wasm bundle. */
export async function failedHydration(page: Page) {
  const failed = await page.locator('html').getAttribute('data-hydration-failed');
  if (failed !== null) throw new Error(`the page's islands did not come alive: ${failed}`);
}

export const WEBHOOK_SECRET = 'e2e-zoom-webhook-secret';

/** Sends a Zoom webhook event signed as Zoom signs it. */
export async function zoomEvent(request: APIRequestContext, event: object) {
  const body = JSON.stringify(event);
  const ts = Math.floor(Date.now() / 1000).toString();
  const signature = 'v0=' + crypto.createHmac('sha256', WEBHOOK_SECRET).update(`v0:${ts}:${body}`).digest('hex');
  const res = await request.post('/api/webhooks/zoom', {
    headers: { 'content-type': 'application/json', 'x-zm-request-timestamp': ts, 'x-zm-signature': signature },
    data: body,
  });
  expect(res.status()).toBe(200);
}
