import fs from 'node:fs';
import { test, expect } from './fixtures';
import { PASSWORD, open, register, screenshot, signIn, waitForMail } from './helpers';

test('a customer registers, sees their name, logs out and logs back in', async ({ page }) => {
  const email = `reg-${Date.now()}@example.com`;
  await open(page, '/register');
  await page.getByLabel('Name').fill('Rita Register');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password (at least 8 characters)').fill(PASSWORD);
  await expect(page.getByLabel('Time zone')).not.toHaveValue('');
  await page.getByRole('button', { name: 'Sign up' }).click();

  await expect(page.getByTestId('nav-user')).toHaveText('Rita Register');
  await expect(page.getByRole('link', { name: 'My appointments' })).toBeVisible();
  await screenshot(page, 'registered');

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('link', { name: 'Log in' })).toBeVisible();
  await expect(page.getByTestId('nav-user')).toHaveCount(0);

  await open(page, '/login');
  await expect(page.getByTestId('demo-accounts')).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid email or password');

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('nav-user')).toHaveText('Rita Register');
  await screenshot(page, 'logged-in');
});

test('without JavaScript a failed login shows its error and a good one logs in', async ({ browser, request }) => {
  const email = `nojs-${Date.now()}@example.com`;
  const res = await request.post('/api/auth/register', {
    data: { name: 'Nico Noscript', email, password: PASSWORD, role: 'specialist', timezone: 'Europe/Berlin' },
  });
  expect(res.status()).toBe(201);
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid email or password');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/specialist$/);
  await expect(page.getByTestId('nav-user')).toHaveText('Nico Noscript');
  await context.close();
});

test('a user who forgot their password sets a new one from the emailed link, then logs in with it', async ({ page, request }) => {
  const user = await register(request, 'customer', 'Flo Forgetful');
  await open(page, '/login');
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByLabel('Email').fill(user.email);
  await page.getByRole('button', { name: 'Email me a link' }).click();
  await expect(page.getByTestId('reset-link-sent')).toContainText('If an account has this address');

  const mail = await waitForMail(user.email, '🔑 Reset your password');
  const link = (mail.text ?? '').split('\n').find((l) => l.includes('/reset-password?token='))!.trim();
  await open(page, new URL(link).pathname + new URL(link).search);
  await page.getByLabel('New password (at least 8 characters)').fill('a-fresh-password-2027');
  await page.getByRole('button', { name: 'Set my new password' }).click();
  await expect(page.getByTestId('password-reset-done')).toBeVisible();
  // Not signed in by the reset: the visitor logs in with the new password.
  await expect(page.getByTestId('nav-user')).toHaveCount(0);
  await screenshot(page, 'password-reset-done');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill('a-fresh-password-2027');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('nav-user')).toHaveText('Flo Forgetful');

  // The link worked once.
  await open(page, new URL(link).pathname + new URL(link).search);
  await expect(page.getByTestId('reset-link-error')).toContainText('does not work any more');
  await waitForMail(user.email, '🔒 Your password was changed');
});

test('a signed-in user changes their password from the account page', async ({ page, context, request }) => {
  const user = await register(request, 'customer', 'Cleo Change');
  await signIn(context, user);
  await open(page, '/slots');
  await page.getByTestId('nav-user').click();
  await expect(page.getByRole('heading', { name: 'Your account', level: 1 })).toBeVisible();
  await expect(page.getByTestId('account-email')).toHaveText(user.email);
  await page.getByLabel('Current password').fill('not-my-password');
  await page.getByLabel('New password (at least 8 characters)').fill('a-changed-password-1');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toContainText('current password is not right');
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByLabel('New password (at least 8 characters)').fill('a-changed-password-1');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByTestId('password-changed')).toBeVisible();
  // Still signed in here; the new password is the one that logs in.
  await expect(page.getByTestId('nav-user')).toHaveText('Cleo Change');
  const login = await request.post('/api/auth/login', { data: { email: user.email, password: 'a-changed-password-1' } });
  expect(login.status()).toBe(200);
});

test('the account page changes the name and time zone and downloads the account data', async ({ page, context, request }) => {
  const user = await register(request, 'customer', 'Dora Data');
  await signIn(context, user);
  await open(page, '/account');
  await page.getByLabel('Name').fill('Dora D. Data');
  await page.getByLabel('Time zone').fill('Asia/Kolkata');
  await page.getByRole('button', { name: 'Save name and time zone' }).click();
  await expect(page.getByTestId('profile-saved')).toBeVisible();
  await expect(page.getByTestId('nav-user')).toHaveText('Dora D. Data');
  await expect(page.getByLabel('Time zone')).toHaveValue('Asia/Kolkata');
  await page.getByLabel('Time zone').fill('Nowhere/Special');
  await page.getByRole('button', { name: 'Save name and time zone' }).click();
  await expect(page.getByRole('alert')).toContainText('timezone');

  const download = page.waitForEvent('download');
  await page.getByTestId('export-link').click();
  const file = await (await download).path();
  const exported = JSON.parse(fs.readFileSync(file!, 'utf8'));
  expect(exported.account.email).toBe(user.email);
  expect(exported.account.timezone).toBe('Asia/Kolkata');
});
