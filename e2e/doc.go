// Package e2e holds the end-to-end tests of the Settings → Billing pages: headless Chromium
// (driven by chromedp) against the real server on a loopback port and a real PostgreSQL
// database per test. TestScreenshots also writes PNGs of every page, desktop and phone, to
// $LUX_SCREENSHOTS (`make screenshots`).
package e2e
