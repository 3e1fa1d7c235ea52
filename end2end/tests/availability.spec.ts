import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect } from './fixtures';
import { hydrated, open, register, screenshot, signIn } from './helpers';

const DAY = 24 * 3600_000;
const WEEK = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** `YYYYMMDDTHHMMSSZ` for `days` from today at `hour`:00 UTC. */
function icsTime(days: number, hour: number): string {
  const d = new Date(Date.now() + days * DAY);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** A calendar on this machine, as Google Calendar's secret address would serve it. */
async function calendarServer(ics: string) {
  const server = http.createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/calendar' }).end(ics);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/private/basic.ics`, close: () => server.close() };
}

test('a customer books from a specialist page, whose busy calendar hides an overlapping session', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Page Hours');
  const auth = { Authorization: `Bearer ${specialist.token}` };
  const handle = `dr-hours-${Date.now().toString(36)}`;
  expect((await request.put('/api/profile/page', { headers: auth, data: { handle, bio: 'Hours for founders.' } })).status()).toBe(200);
  // Daily 09:00-10:00 UTC, from 30 days ahead (past the other specs' slots on /slots).
  const offering = await request.post('/api/offerings', {
    headers: auth,
    data: {
      title: 'Founder hour', duration: 60, capacity: 2,
      schedule: { timezone: 'UTC', weekly: WEEK.map((day) => ({ day, start: '09:00', end: '10:00' })), noticeHours: 720, windowDays: 33 },
    },
  });
  expect(offering.status()).toBe(201);
  const sessions = async () => (await (await request.get(`/api/specialists/${handle}`)).json()).data.sessions as { id: string; startsAt: string }[];
  await expect.poll(async () => (await sessions()).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);

  // A busy event over the first session's day hides it.
  const first = (await sessions())[0];
  const days = Math.round((Date.parse(first.startsAt) - Date.now()) / DAY);
  const calendar = await calendarServer(
    'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//e2e//EN\r\n' +
      `BEGIN:VEVENT\r\nUID:busy-1\r\nDTSTART:${icsTime(days, 8)}\r\nDTEND:${icsTime(days, 11)}\r\nSUMMARY:Private\r\nEND:VEVENT\r\n` +
      'END:VCALENDAR\r\n',
  );
  try {
    const added = await request.post('/api/busy-calendars', { headers: auth, data: { url: calendar.url, label: 'Personal' } });
    expect(added.status()).toBe(201);
    await expect.poll(async () => (await sessions()).some((s) => s.id === first.id), { timeout: 10_000 }).toBe(false);
  } finally {
    calendar.close();
  }

  const customer = await register(request, 'customer', 'Paula Page');
  await signIn(context, customer);
  await open(page, `/s/${handle}?tz=UTC`);
  await expect(page.getByTestId('page-name')).toHaveText('Dr. Page Hours');
  await expect(page.getByText('Hours for founders.')).toBeVisible();
  await expect(page.getByTestId('offering')).toContainText('Founder hour');
  const rows = page.getByTestId('open-session');
  await expect(rows.first()).toContainText('09:00 (UTC)');
  await screenshot(page, 'specialist-page');
  await rows.first().getByRole('link', { name: 'Book' }).click();
  await hydrated(page);
  const modal = page.getByRole('dialog');
  await expect(modal).toBeVisible();
  await modal.getByRole('button', { name: 'Confirm booking' }).click();
  await expect(modal.getByTestId('booking-success')).toBeVisible();
});

test('a specialist sets weekly hours and a day off in the schedule editor, and the page follows them', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Editor');
  await signIn(context, specialist);
  await open(page, '/specialist');
  await page.getByRole('link', { name: 'Availability' }).click();
  await expect(page.getByRole('heading', { name: 'Availability', level: 1 })).toBeVisible();

  const handle = `dr-editor-${Date.now().toString(36)}`;
  await page.locator('#handle').fill(handle);
  await page.locator('#bio').fill('Weekly hours, set in the browser.');
  await page.getByRole('button', { name: 'Save my page' }).click();
  await expect(page.getByTestId('availability-done')).toHaveText('Your page is saved.');
  await expect(page.getByTestId('page-link')).toContainText(`/s/${handle}`);

  // Every day 09:00-10:00 UTC, offered from 30 days ahead (past the other specs' slots on
  // /slots) for 33 days; the 32nd day from now off.
  const dayOff = new Date(Date.now() + 32 * DAY).toISOString().slice(0, 10);
  await page.getByTestId('new-offering').locator('summary').click();
  await page.locator('#title-new').fill('Editor hour');
  await page.locator('#timezone-new').fill('UTC');
  await page.locator('#duration-new').fill('60');
  for (const day of WEEK) await page.locator(`#hours-${day}-new`).fill('09:00-10:00');
  await page.locator('#overrides-new').fill(`${dayOff} off`);
  await page.locator('#notice-new').fill('720');
  await page.locator('#window-new').fill('33');
  await page.getByRole('button', { name: 'Save offering' }).click();
  await expect(page.getByTestId('availability-done')).toContainText('Offering saved');
  const offering = page.getByTestId('offering');
  await expect(offering).toContainText('Editor hour');
  await expect(page.getByTestId('offering-week')).toHaveText(WEEK.map((d) => `${d[0].toUpperCase()}${d.slice(1)} 09:00-10:00`).join(' · '));
  await expect(page.getByTestId('offering-overrides')).toHaveText(`Dates: ${dayOff} off`);
  await screenshot(page, 'schedule-editor');

  // A bad hour is refused with a message, and changes nothing.
  await offering.locator('summary', { hasText: 'Edit' }).click();
  const id = await offering.locator('input[name="offering_id"]').first().inputValue();
  await page.locator(`#hours-mon-${id}`).fill('10:00-09:00');
  await offering.getByRole('button', { name: 'Save offering' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page.getByTestId('offering-week')).toContainText('Mon 09:00-10:00');
  await offering.locator('summary', { hasText: 'Edit' }).click();
  await screenshot(page, 'schedule-editor-form');

  // The sessions follow: some on the days around, none on the day off.
  const sessions = async () => (await (await request.get(`/api/specialists/${handle}`)).json()).data.sessions as { startsAt: string }[];
  await expect.poll(async () => (await sessions()).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
  const days = (await sessions()).map((s) => s.startsAt.slice(0, 10));
  expect(days).not.toContain(dayOff);
  expect(days.every((d) => d.length === 10)).toBe(true);
  await open(page, `/s/${handle}?tz=UTC`);
  await expect(page.getByText('Weekly hours, set in the browser.')).toBeVisible();
  await expect(page.getByTestId('open-session').first()).toContainText('09:00 (UTC)');
});

test('a calendar that fails to load says since when, on the availability page and the dashboard', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Failing Calendar');
  await signIn(context, specialist);
  // A port nothing listens on: every fetch fails.
  const closed = await calendarServer('');
  const url = closed.url;
  closed.close();
  await open(page, '/specialist/availability');
  await page.locator('#calendar-url').fill(url);
  await page.locator('#calendar-label').fill('Work calendar');
  await page.getByRole('button', { name: 'Add calendar' }).click();
  await expect(page.getByTestId('availability-done')).toContainText('Calendar added');
  // The first fetch runs as a job right after the add.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('calendar-failing')).toContainText('failing since', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await open(page, '/specialist');
  await expect(page.getByTestId('availability-notice')).toContainText('Work calendar has failed to load since');
  await page.getByTestId('availability-notice').getByRole('link', { name: 'Open Availability' }).click();
  await expect(page.getByTestId('busy-calendar')).toContainText('Work calendar');
});
