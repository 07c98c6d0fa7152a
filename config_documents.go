package main

import (
	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing/documents"
)

// DocumentsConfig is the seller block and tax printed on invoices, credit notes and statements.
// Unset, the seller is documents.DefaultSeller and tax is 0.
type DocumentsConfig struct {
	SellerName    string `env:"LUX_SELLER_NAME" help:"Seller name printed on invoices (default Lux Studio, Inc.)."`
	SellerAddress string `env:"LUX_SELLER_ADDRESS" help:"Seller address on invoices; lines separated by ';'."`
	SellerCountry string `env:"LUX_SELLER_COUNTRY" help:"Seller country on invoices (ISO code, e.g. US)."`
	SellerTaxID   string `env:"LUX_SELLER_TAX_ID" help:"Seller tax id on invoices."`
	SellerEmail   string `env:"LUX_SELLER_EMAIL" help:"Billing contact on invoices (default billing@lux.local)."`
	TaxRate       string `env:"LUX_TAX_RATE" help:"Tax rate in percent included in prices (e.g. 8.25); 0 when unset."`
	TaxLabel      string `env:"LUX_TAX_LABEL" default:"Tax" help:"Name of the tax on invoices (e.g. VAT)."`
}

// documents returns the documents' configuration; a bad tax rate is an error at start-up.
func (c *DocumentsConfig) documents() (documents.Config, error) {
	rate, err := documents.ParseTaxRate(c.TaxRate)
	if err != nil {
		return documents.Config{}, err
	}
	cfg := documents.Config{TaxRateBP: rate, TaxLabel: c.TaxLabel}
	if c.SellerName != "" {
		cfg.Seller = documents.Party{
			Name: c.SellerName, Address: documents.SplitLines(c.SellerAddress),
			Country: c.SellerCountry, TaxID: c.SellerTaxID, Email: c.SellerEmail,
		}
		return cfg, nil
	}
	cfg.Seller = documents.DefaultSeller
	if c.SellerEmail != "" {
		cfg.Seller.Email = c.SellerEmail
	}
	if c.SellerTaxID != "" {
		cfg.Seller.TaxID = c.SellerTaxID
	}
	return cfg, nil
}

// documentsOn returns the documents service of the configuration on db.
func (c *DocumentsConfig) documentsOn(db *sqlx.DB) (*documents.Service, error) {
	cfg, err := c.documents()
	if err != nil {
		return nil, err
	}
	return documents.New(db, cfg), nil
}
