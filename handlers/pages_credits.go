package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/payments"
	"github.com/luxstudio/lux-billing/views"
)

// AddCredits is the Add Credits page, for admins (GET /settings/billing/credits).
func (h *Pages) AddCredits(c echo.Context) error {
	return h.renderAddCredits(c, http.StatusOK, views.CustomAmount{})
}

// renderAddCredits renders the Add Credits page with the custom amount form as given.
func (h *Pages) renderAddCredits(c echo.Context, status int, custom views.CustomAmount) error {
	ctx := c.Request().Context()
	org := viewer(c).Membership.OrgID
	cs, err := h.Billing.CreditSummary(ctx, org)
	if err != nil {
		return err
	}
	list, err := h.Payments.Purchases(ctx, org)
	if err != nil {
		return err
	}
	v := views.AddCredits{
		Shell: h.Shell(c, views.NavCredits, "Add credits"),
		Demo:  h.Payments.DemoMode(), UnitPrice: h.Payments.UnitPrice(), Balance: cs.Balance,
		Custom: custom, Purchases: list, Loc: viewer(c).Loc, Now: h.Billing.Now(),
	}
	for _, n := range payments.Packs {
		v.Packs = append(v.Packs, h.quote(n, cs.Balance))
	}
	return Render(c, status, views.AddCreditsPage(v))
}

func (h *Pages) quote(credits int64, balance billing.Millicredits) views.CreditQuote {
	return views.CreditQuote{Credits: credits, Price: h.Payments.Price(credits), After: balance + billing.Credits(credits)}
}

// QuoteCredits is the price and resulting balance of a custom amount, as it is typed
// (GET /settings/billing/credits/quote?credits=N, htmx).
func (h *Pages) QuoteCredits(c echo.Context) error {
	var q *views.CreditQuote
	if n, err := payments.ParseAmount(c.QueryParam("credits")); err == nil {
		cs, err := h.Billing.CreditSummary(c.Request().Context(), viewer(c).Membership.OrgID)
		if err != nil {
			return err
		}
		quote := h.quote(n, cs.Balance)
		q = &quote
	}
	return Render(c, http.StatusOK, views.CustomQuote(q))
}

// BuyCredits creates a pending purchase of the posted `credits` and sends the browser to the
// payment page: Stripe Checkout, or the demo checkout (POST /settings/billing/credits). A wrong
// amount is shown inline and nothing is created.
func (h *Pages) BuyCredits(c echo.Context) error {
	v := viewer(c)
	raw := c.FormValue("credits")
	n, err := payments.ParseAmount(raw)
	var p *payments.Purchase
	if err == nil {
		p, err = h.Payments.StartPurchase(c.Request().Context(), v.Membership.OrgID, v.User.ID, n)
	}
	if err != nil {
		return inline(err, func(c echo.Context, status int, msg string) error {
			custom := views.CustomAmount{Value: raw, Error: msg}
			if IsHTMX(c) {
				return Render(c, status, views.CustomAmountForm(CSRFToken(c), custom))
			}
			return h.renderAddCredits(c, status, custom)
		})
	}
	return redirect(c, p.CheckoutURL)
}

// PurchaseStatus shows a purchase's state: where the buyer lands after paying (Stripe's
// success URL). htmx polls it while it is pending (GET /settings/billing/credits/purchases/:id).
func (h *Pages) PurchaseStatus(c echo.Context) error {
	ctx := c.Request().Context()
	org := viewer(c).Membership.OrgID
	p, err := h.Payments.FindPurchase(ctx, org, c.Param("id"))
	if err != nil {
		return err
	}
	cs, err := h.Billing.CreditSummary(ctx, org)
	if err != nil {
		return err
	}
	v := views.PurchaseStatus{Shell: h.Shell(c, views.NavCredits, "Your purchase"), Purchase: p,
		Balance: cs.Balance, Demo: p.Provider == payments.ProviderDemo, Loc: viewer(c).Loc, Now: h.Billing.Now()}
	if IsHTMX(c) {
		return Render(c, http.StatusOK, views.PurchaseStatusCard(v))
	}
	return Render(c, http.StatusOK, views.PurchaseStatusPage(v))
}

// CancelPurchase is where the buyer lands after leaving the payment page without paying
// (Stripe's cancel URL): the pending purchase is cancelled and its page says so
// (GET /settings/billing/credits/purchases/:id/cancel).
func (h *Pages) CancelPurchase(c echo.Context) error {
	p, err := h.Payments.Cancel(c.Request().Context(), viewer(c).Membership.OrgID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, payments.StatusPath(p.ID))
}

// DemoCheckout is the demo provider's payment page ("Demo mode — no card is charged")
// (GET /settings/billing/credits/demo/:id).
func (h *Pages) DemoCheckout(c echo.Context) error {
	p, err := h.demoPurchase(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.DemoCheckoutPage(views.DemoCheckout{Shell: h.Shell(c, views.NavCredits, "Checkout"), Purchase: p}))
}

// DemoPay is the demo checkout's Pay button: the payment is confirmed through the same
// fulfilment as Stripe's webhook, then the browser goes to the purchase's page
// (POST /settings/billing/credits/demo/:id/pay).
func (h *Pages) DemoPay(c echo.Context) error {
	p, err := h.demoPurchase(c)
	if err != nil {
		return err
	}
	if _, err := h.Payments.PayDemo(c.Request().Context(), p.OrgID, p.ID); err != nil {
		return inline(err, func(c echo.Context, status int, msg string) error {
			return Render(c, status, views.DemoCheckoutPage(views.DemoCheckout{Shell: h.Shell(c, views.NavCredits, "Checkout"), Purchase: p, Error: msg}))
		})
	}
	return redirect(c, payments.StatusPath(p.ID))
}

// demoPurchase is the org's purchase of the URL, if it is paid through the demo provider.
func (h *Pages) demoPurchase(c echo.Context) (*payments.Purchase, error) {
	p, err := h.Payments.FindPurchase(c.Request().Context(), viewer(c).Membership.OrgID, c.Param("id"))
	if err != nil {
		return nil, err
	}
	if p.Provider != payments.ProviderDemo {
		return nil, billing.Errorf(billing.ENOTFOUND, "this purchase is not paid through the demo checkout")
	}
	return p, nil
}

// RefundConfirm is the confirm step of "Refund unused credits": how many credits and how much
// money (GET /settings/billing/credits/purchases/:id/refund).
func (h *Pages) RefundConfirm(c echo.Context) error {
	return h.renderRefund(c, http.StatusOK, "")
}

func (h *Pages) renderRefund(c echo.Context, status int, msg string) error {
	ctx := c.Request().Context()
	org := viewer(c).Membership.OrgID
	p, q, err := h.Payments.QuoteRefund(ctx, org, c.Param("id"))
	if err != nil {
		return err
	}
	return Render(c, status, views.RefundConfirmPage(views.RefundConfirm{Shell: h.Shell(c, views.NavCredits, "Refund unused credits"),
		Purchase: p, Quote: q, Error: msg, Loc: viewer(c).Loc, Now: h.Billing.Now()}))
}

// RefundPurchase refunds a purchase's unused credits, pro rata, through the payment provider
// (POST /settings/billing/credits/purchases/:id/refund). A refusal (after 30 days, nothing
// left) is shown on the confirm page.
func (h *Pages) RefundPurchase(c echo.Context) error {
	v := viewer(c)
	r, err := h.Payments.Refund(c.Request().Context(), v.Membership.OrgID, c.Param("id"), v.User.ID)
	if err != nil {
		if billing.ErrorCode(err) == billing.ENOTFOUND {
			return err
		}
		return inline(err, func(c echo.Context, status int, msg string) error { return h.renderRefund(c, status, msg) })
	}
	h.sessions.Flash(c, "Refunded "+views.FormatCredits(r.Credits)+" unused credits: "+r.Amount.String()+" goes back to the card that paid.")
	return redirect(c, "/settings/billing/credits")
}
