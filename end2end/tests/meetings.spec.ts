import { test, expect } from './fixtures';
import { book, countMails, createSlot, open, register, screenshot, signIn, waitForMail } from './helpers';

test('scenario 1: the specialist creates the meeting and the customer page turns ready by itself', async ({ browser, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Flow');
  const customer = await register(request, 'customer', 'Cora Customer');
  const slot = await createSlot(request, specialist, { hours: 26, capacity: 10, title: 'Flow session' });
  const index = await book(request, customer, slot.id);
  await waitForMail(customer.email, '✅ Appointment Confirmed');

  const customerContext = await browser.newContext();
  await signIn(customerContext, customer);
  const customerPage = await customerContext.newPage();
  await open(customerPage, `/appointments/${slot.id}/${index}`);
  const zoom = customerPage.getByTestId('appt-zoom');
  await expect(zoom).toContainText('Zoom Meeting Pending');
  await expect(zoom).toContainText('What to expect');
  await expect(customerPage.getByRole('button', { name: 'Refresh to Check' })).toBeVisible();
  await screenshot(customerPage, 'appointment-pending');

  const specialistContext = await browser.newContext();
  await specialistContext.grantPermissions(['clipboard-read', 'clipboard-write']);
  await signIn(specialistContext, specialist);
  const manager = await specialistContext.newPage();
  await open(manager, '/specialist/meetings');
  const group = manager.getByTestId('mm-slot').filter({ hasText: 'Flow session' });
  await expect(group.getByTestId('mm-capacity')).toHaveText('1 / 10 booked');
  const card = group.getByTestId('mm-booking').filter({ hasText: 'Cora Customer' });
  await expect(card.getByRole('heading', { name: /Zoom Meeting Not Created/ })).toBeVisible();
  await screenshot(manager, 'manager-not-created');
  await card.getByRole('button', { name: 'Create Zoom Meeting' }).click();
  await expect(card.getByRole('heading', { name: /Zoom Meeting Created/ })).toBeVisible();
  await expect(card.getByText('simulated')).toBeVisible();
  await expect(card.getByText('Zoom meeting created. The customer will be emailed the details.')).toBeVisible();
  const meetingId = (await card.getByTestId('meeting-id').textContent())!.trim();
  expect(meetingId).toMatch(/^sim-\d{11}$/);
  await screenshot(manager, 'manager-created');

  await card.getByRole('button', { name: 'Copy meeting ID' }).click();
  await expect(card.getByRole('button', { name: 'Copy meeting ID' })).toHaveText('Copied!');
  expect(await manager.evaluate(() => navigator.clipboard.readText())).toBe(meetingId);
  await expect(card.getByRole('button', { name: 'Copy meeting ID' })).toHaveText('Copy', { timeout: 5000 });

  // The customer's page notices without a reload (refresh period: 2 s in tests).
  await expect(zoom).toContainText('Zoom Meeting Ready', { timeout: 10_000 });
  await expect(customerPage.getByTestId('meeting-id')).toHaveText(meetingId);
  await expect(customerPage.getByRole('link', { name: 'Join Zoom Meeting' })).toHaveAttribute('href', /\/dev\/zoom\/sim-/);
  await expect(zoom).toContainText('Join 5 minutes early');
  expect(await customerPage.content()).not.toContain('role=host');
  await screenshot(customerPage, 'appointment-ready');

  const ready = await waitForMail(customer.email, '🎥 Zoom Meeting Ready: Dr. Flow');
  expect(ready.text).toContain(meetingId);
  expect(ready.text).not.toContain('role=host');

  await open(manager, '/specialist/meetings');
  await expect(manager.getByTestId('mm-booking').filter({ hasText: 'Cora Customer' }).getByText('Customer has been notified')).toBeVisible();
  await customerContext.close();
  await specialistContext.close();
});

test('scenario 2: another specialist is refused', async ({ page, context, request }) => {
  const owner = await register(request, 'specialist', 'Dr. Owner');
  const intruder = await register(request, 'specialist', 'Dr. Intruder');
  const customer = await register(request, 'customer', 'Ike');
  const slot = await createSlot(request, owner, { title: 'Private session' });
  await book(request, customer, slot.id);

  await signIn(context, intruder);
  await open(page, `/appointments/${slot.id}/0`);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  const status = await page.evaluate(async (path) => (await fetch(path, { method: 'POST' })).status, `/api/consulting-slots/${slot.id}/booking/0/create-zoom`);
  expect(status).toBe(403);
  await open(page, '/specialist/meetings');
  await expect(page.getByText('Private session')).toHaveCount(0);
});

test('scenario 3: a double click creates one meeting', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Double');
  const customer = await register(request, 'customer', 'Dana');
  const slot = await createSlot(request, specialist, { title: 'Double click session' });
  await book(request, customer, slot.id);
  await signIn(context, specialist);
  await open(page, '/specialist/meetings');
  const card = page.getByTestId('mm-slot').filter({ hasText: 'Double click session' }).getByTestId('mm-booking');
  await card.getByRole('button', { name: 'Create Zoom Meeting' }).dblclick();
  await expect(card.getByRole('heading', { name: /Zoom Meeting Created/ })).toBeVisible();
  const res = await request.post(`/api/consulting-slots/${slot.id}/booking/0/create-zoom`, { headers: { Authorization: `Bearer ${specialist.token}` } });
  expect(res.status()).toBe(409);
  const body = await res.json();
  expect(body.message).toBe('Zoom meeting already created for this booking');
  await waitForMail(customer.email, '🎥 Zoom Meeting Ready');
  await page.waitForTimeout(1000);
  expect(await countMails(customer.email, '🎥 Zoom Meeting Ready')).toBe(1);
});

test('scenario 4: a bad booking index shows the error page', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Index');
  const customer = await register(request, 'customer', 'Ivy');
  const slot = await createSlot(request, specialist, { title: 'Index session' });
  await book(request, customer, slot.id);
  await signIn(context, specialist);
  for (const bad of ['7', '-1', 'abc']) {
    await open(page, `/appointments/${slot.id}/${bad}`);
    await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  }
  await screenshot(page, 'not-found');
  const res = await request.post(`/api/consulting-slots/${slot.id}/booking/7/create-zoom`, { headers: { Authorization: `Bearer ${specialist.token}` } });
  expect(res.status()).toBe(400);
  expect((await res.json()).message).toBe('Invalid booking index');
});

test('scenario 5: three customers on one slot each get their own meeting', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Group');
  const slot = await createSlot(request, specialist, { capacity: 10, title: 'Group session' });
  const customers = [];
  for (const name of ['Ann Group', 'Ben Group', 'Cat Group']) {
    const c = await register(request, 'customer', name);
    await book(request, c, slot.id);
    customers.push(c);
  }
  await signIn(context, specialist);
  await open(page, '/specialist/meetings');
  const group = page.getByTestId('mm-slot').filter({ hasText: 'Group session' });
  await expect(group.getByTestId('mm-capacity')).toHaveText('3 / 10 booked');
  await group.getByRole('button', { name: 'Create all missing meetings' }).click();
  await expect(group.getByTestId('mm-progress')).toHaveText('3 of 3 created');
  await expect(group.getByRole('heading', { name: /Zoom Meeting Created/ })).toHaveCount(3);
  const ids = await group.getByTestId('meeting-id').allTextContents();
  expect(new Set(ids).size).toBe(3);
  for (const c of customers) {
    const mail = await waitForMail(c.email, '🎥 Zoom Meeting Ready');
    const own = ids.filter((id) => mail.text!.includes(id));
    expect(own.length).toBe(1);
    for (const other of customers.filter((o) => o !== c)) {
      expect(mail.text).not.toContain(other.email);
    }
  }
});

test('a logged-out visitor is sent to log in and back', async ({ page, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. Next');
  await open(page, '/specialist/meetings');
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel('Email').fill(specialist.email);
  await page.getByLabel('Password').fill('e2e-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/specialist\/meetings$/);
  await expect(page.getByRole('heading', { name: 'Meeting Manager' })).toBeVisible();
});

test('my appointments lists the booking with its Zoom state', async ({ page, context, request }) => {
  const specialist = await register(request, 'specialist', 'Dr. List');
  const customer = await register(request, 'customer', 'Lia');
  const slot = await createSlot(request, specialist, { title: 'Listed session' });
  await book(request, customer, slot.id);
  await signIn(context, customer);
  await open(page, '/appointments');
  const item = page.getByTestId('my-appointment').filter({ hasText: 'Listed session' });
  await expect(item.getByText('Zoom pending')).toBeVisible();
  await screenshot(page, 'my-appointments');
  await item.getByRole('link', { name: 'Details' }).click();
  await expect(page).toHaveURL(new RegExp(`/appointments/${slot.id}/0`));
});
