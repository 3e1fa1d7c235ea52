import { test, expect } from './fixtures';
import { book, createSlot, open, register, screenshot, signIn, waitForMail, zoomEvent } from './helpers';
import { baseURL } from '../playwright.config';

test('an open appointment page turns ready within 2 s of a create from another browser', async ({ browser, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Live');
  const customer = await register(request, 'customer', 'Lia Live');
  const slot = await createSlot(request, specialist, { hours: 200, title: 'Live session' });
  const index = await book(request, customer, slot.id);

  const context = await browser.newContext();
  await signIn(context, customer);
  const page = await context.newPage();
  await open(page, `/appointments/${slot.id}/${index}`);
  const zoom = page.getByTestId('appt-zoom');
  await expect(zoom).toContainText('Zoom Meeting Pending');

  // The specialist's Meeting Manager, open in another browser, hears of a new booking too.
  const specialistContext = await browser.newContext();
  await signIn(specialistContext, specialist);
  const manager = await specialistContext.newPage();
  await open(manager, '/specialist/meetings');
  const late = await register(request, 'customer', 'Late Larry');
  await book(request, late, slot.id);
  await expect(manager.getByTestId('mm-booking').filter({ hasText: 'Late Larry' })).toBeVisible({ timeout: 2_000 });

  const res = await request.post(`/api/consulting-slots/${slot.id}/booking/${index}/create-zoom`, {
    headers: { Authorization: `Bearer ${specialist.token}` },
    data: {},
  });
  expect(res.status()).toBe(200);
  await expect(zoom).toContainText('Zoom Meeting Ready', { timeout: 2_000 });
  await context.close();
  await specialistContext.close();
});

test('an answer to an older read that arrives last does not turn a ready page back to pending', async ({ browser, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Order');
  const customer = await register(request, 'customer', 'Otto Order');
  const slot = await createSlot(request, specialist, { hours: 202, title: 'Ordered session' });
  const index = await book(request, customer, slot.id);
  const context = await browser.newContext();
  await signIn(context, customer);
  const page = await context.newPage();
  await open(page, `/appointments/${slot.id}/${index}`);
  const zoom = page.getByTestId('appt-zoom');
  await expect(zoom).toContainText('Zoom Meeting Pending');

  // One read made while the meeting is pending, whose answer is held back until after the
  // meeting's own change has been read and shown: as two reads in flight may answer.
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let delivered!: () => void;
  const stalePageDelivered = new Promise<void>((r) => (delivered = r));
  let held = false;
  await page.route('**/api/appointment', async (route) => {
    if (held) return route.continue();
    held = true;
    const stale = await route.fetch();
    expect(await stale.text()).toContain('"zoomMeeting":null');
    await released;
    await route.fulfill({ response: stale });
    delivered();
  });
  await page.getByRole('button', { name: 'Refresh to Check' }).click();
  await expect.poll(() => held).toBe(true);
  const res = await request.post(`/api/consulting-slots/${slot.id}/booking/${index}/create-zoom`, {
    headers: { Authorization: `Bearer ${specialist.token}` },
    data: {},
  });
  expect(res.status()).toBe(200);
  await expect(zoom).toContainText('Zoom Meeting Ready', { timeout: 5_000 });
  release();
  await stalePageDelivered;
  // The held answer (pending) has arrived; the page must keep what it read since. Absence of
  // a change has no event to wait for: it is watched for half a second.
  await page.waitForTimeout(500);
  await expect(zoom).toContainText('Zoom Meeting Ready');
  await context.close();
});

test('attendance from Zoom and the customer\'s feedback reach the specialist', async ({ browser, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Heard');
  const customer = await register(request, 'customer', 'Fay Feedback');
  const slot = await createSlot(request, specialist, { hours: 201, title: 'Heard session' });
  const index = await book(request, customer, slot.id);
  const created = await request.post(`/api/consulting-slots/${slot.id}/booking/${index}/create-zoom`, {
    headers: { Authorization: `Bearer ${specialist.token}` },
    data: {},
  });
  const meeting = (await created.json()).data.zoomMeeting.zoomMeetingId as string;

  // What Zoom would report of the session: the host, then the customer for 40 minutes.
  const t0 = Date.now() - 50 * 60_000;
  const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const object = { id: meeting, uuid: 'e2e-instance==', host_id: 'zoom-host', topic: 'Heard session', type: 2 };
  const participant = (who: 'host' | 'customer', field: string, minutes: number) => ({
    user_id: who === 'host' ? '1001' : '1002',
    user_name: who === 'host' ? 'Dr. Heard' : 'Fay Feedback',
    id: who === 'host' ? 'zoom-host' : '',
    participant_uuid: `p-${who}`,
    email: who === 'host' ? '' : customer.email,
    [field]: at(minutes),
  });
  await zoomEvent(request, { event: 'meeting.participant_joined', event_ts: t0, payload: { object: { ...object, participant: participant('host', 'join_time', 0) } } });
  await zoomEvent(request, { event: 'meeting.participant_joined', event_ts: t0 + 1, payload: { object: { ...object, participant: participant('customer', 'join_time', 3) } } });
  await zoomEvent(request, { event: 'meeting.participant_left', event_ts: t0 + 2, payload: { object: { ...object, participant: participant('customer', 'leave_time', 43) } } });
  await zoomEvent(request, { event: 'meeting.ended', event_ts: t0 + 3, payload: { object: { ...object, start_time: at(0), end_time: at(45) } } });

  const specialistContext = await browser.newContext();
  await signIn(specialistContext, specialist);
  const manager = await specialistContext.newPage();
  await open(manager, '/specialist/meetings');
  const card = manager.getByTestId('mm-booking').filter({ hasText: 'Fay Feedback' });
  await expect(card.getByTestId('outcome')).toHaveText('Attended');
  await expect(card.getByTestId('attendance-minutes')).toHaveText('40 min');
  await screenshot(manager, 'manager-attendance');

  // The customer rates the session from the emailed link, with a plain form.
  const mail = await waitForMail(customer.email, 'How was your session with Dr. Heard?');
  const link = /\/feedback\/[A-Za-z0-9]+/.exec(mail.text ?? '')![0];
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  const page = await noScript.newPage();
  await page.goto(link);
  await expect(page.getByText('Heard session')).toBeVisible();
  await screenshot(page, 'feedback-form');
  await page.getByLabel('4', { exact: true }).check();
  await page.getByLabel('Comment').fill('Clear answers, thank you.');
  await page.getByRole('button', { name: 'Send feedback' }).click();
  await expect(page.getByTestId('feedback-thanks')).toBeVisible();
  await expect(page.getByTestId('feedback')).toContainText('Clear answers, thank you.');
  await screenshot(page, 'feedback-thanks');

  await open(manager, '/specialist');
  await expect(manager.getByTestId('feedback-average')).toContainText('4.0 / 5 average from 1 rating');
  await expect(manager.getByTestId('mm-booking').filter({ hasText: 'Fay Feedback' }).getByTestId('feedback')).toContainText('Clear answers');
  await screenshot(manager, 'dashboard-feedback');

  // The session's cloud recording (the simulated Zoom "records" a transcript under /dev).
  await zoomEvent(request, {
    event: 'recording.completed', event_ts: Date.now(), download_token: 'simulated-token',
    payload: { object: { ...object, recording_files: [{
      id: 'transcript-1', file_type: 'TRANSCRIPT', file_extension: 'VTT', status: 'completed',
      recording_start: at(1), download_url: `${baseURL}/dev/zoom/recordings/transcript-1`,
    }] } },
  });
  const customerContext = await browser.newContext();
  await signIn(customerContext, customer);
  const appointment = await customerContext.newPage();
  await expect(async () => {
    await open(appointment, `/appointments/${slot.id}/${index}`);
    await expect(appointment.getByTestId('recordings')).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 10_000 });
  await expect(appointment.getByTestId('outcome')).toHaveText('Attended');
  const fileLink = appointment.getByTestId('recordings').getByRole('link');
  const file = await customerContext.request.get((await fileLink.getAttribute('href'))!);
  expect(file.status()).toBe(200);
  expect(await file.text()).toContain('Simulated recording');
  await screenshot(appointment, 'appointment-recording');
  await customerContext.close();
  await noScript.close();
  await specialistContext.close();
});
