package sidelog

import (
	"context"
	"sync"
)

// Scope is what a context says about the work it belongs to: the request,
// the trace and the acting user. The handler copies it into every record
// logged with that context.
type Scope struct {
	RequestID string
	TraceID   string
	SpanID    string
	UserID    string
	TenantID  string
}

type scopeKey struct{}

// scopeVal is stored in a context by pointer; it is never changed once
// stored, except for the request slot shared by a whole request.
type scopeVal struct {
	Scope
	slot *requestSlot
}

// requestSlot lets the request's outermost middleware learn the user that
// an inner handler (after authentication) attached to a derived context.
type requestSlot struct {
	mu           sync.Mutex
	user, tenant string
}

func scopeOf(ctx context.Context) *scopeVal {
	if ctx == nil {
		return nil
	}
	v, _ := ctx.Value(scopeKey{}).(*scopeVal)
	return v
}

// ScopeFrom returns the scope attached to ctx, or the zero Scope.
func ScopeFrom(ctx context.Context) Scope {
	if v := scopeOf(ctx); v != nil {
		return v.Scope
	}
	return Scope{}
}

func with(ctx context.Context, f func(*scopeVal)) context.Context {
	nv := &scopeVal{}
	if v := scopeOf(ctx); v != nil {
		*nv = *v
	}
	f(nv)
	return context.WithValue(ctx, scopeKey{}, nv)
}

// WithRequest returns a context for serving one request with the given id.
// Users attached later with WithUser, in this context or one derived from
// it, are reported by RequestUser.
func WithRequest(ctx context.Context, requestID string) context.Context {
	return with(ctx, func(v *scopeVal) {
		v.RequestID = requestID
		v.slot = &requestSlot{}
	})
}

// WithTrace returns a context whose records carry the trace and span ids.
func WithTrace(ctx context.Context, traceID, spanID string) context.Context {
	return with(ctx, func(v *scopeVal) { v.TraceID, v.SpanID = traceID, spanID })
}

// WithUser returns a context whose records carry the user and tenant ids.
// Inside a request started with WithRequest it also tells the request's
// middleware who the user was.
func WithUser(ctx context.Context, userID, tenantID string) context.Context {
	return with(ctx, func(v *scopeVal) {
		v.UserID, v.TenantID = userID, tenantID
		if v.slot != nil {
			v.slot.mu.Lock()
			v.slot.user, v.slot.tenant = userID, tenantID
			v.slot.mu.Unlock()
		}
	})
}

// RequestUser returns the user and tenant last attached with WithUser to
// any context derived from the request's context ctx.
func RequestUser(ctx context.Context) (userID, tenantID string) {
	v := scopeOf(ctx)
	if v == nil {
		return "", ""
	}
	if v.slot == nil {
		return v.UserID, v.TenantID
	}
	v.slot.mu.Lock()
	defer v.slot.mu.Unlock()
	if v.slot.user == "" && v.slot.tenant == "" {
		return v.UserID, v.TenantID
	}
	return v.slot.user, v.slot.tenant
}
