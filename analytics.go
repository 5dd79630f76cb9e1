package sidelog

import "time"

// RequestStats summarizes the requests (records of kind request) of one
// group: a route, a method, a status class, a path, a user or a tenant.
type RequestStats struct {
	Key       string  // the group: a route, a method, a status class (5xx), a path, a user or tenant id; "" for none
	Count     int64   // requests
	Errors    int64   // requests with a status of 500 or more
	ErrorRate float64 // Errors / Count
	// Percentiles of the duration (nearest rank), read from log-scale
	// histograms: within 1% of the exact value. Requests without a
	// duration are left out of them.
	P50, P95, P99 time.Duration
	Mean          time.Duration
}
