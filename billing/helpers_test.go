package billing_test

import "context"

var ctx = context.Background()
