package reports_test

import "context"

var ctx = context.Background()
