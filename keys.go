package sidelog

// Attribute keys with a meaning of their own. A top-level slog attribute with
// one of these keys fills the matching Record field instead of Attrs, so the
// middleware and hooks can use any slog.Logger and still land in structured
// columns. Under another slog handler they are ordinary attributes.
const (
	KeyKind      = "kind"       // a Kind, or its name
	KeyLogger    = "logger"     // the logger's name
	KeyRequestID = "request_id" // the request's id
	KeyTraceID   = "trace_id"   // a W3C trace id (32 hex digits)
	KeySpanID    = "span_id"    // a W3C span id (16 hex digits)
	KeyUserID    = "user_id"    // the acting user's id in the business database
	KeyTenantID  = "tenant_id"  // the tenant / organisation id
	KeyMethod    = "http.method"
	KeyPath      = "http.path"
	KeyRoute     = "http.route" // the router's pattern, like "GET /projects/{id}"
	KeyStatus    = "http.status"
	KeyDuration  = "duration" // a time.Duration
	KeyClientIP  = "client_ip"
	KeyUserAgent = "user_agent"
	KeyError     = "error" // an error or its text; "err" is accepted too
	KeyErr       = "err"
)
