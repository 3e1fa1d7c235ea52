import { test, expect } from './fixtures';
import { PASSWORD, open, screenshot } from './helpers';

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
