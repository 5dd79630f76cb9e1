package ship

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"google.golang.org/grpc/credentials"

	"github.com/sidelog/sidelog"
)

// TLSConfig names the files of a TLS setup, as the OTEL_EXPORTER_OTLP_*
// variables do. Empty fields are left at Go's defaults.
type TLSConfig struct {
	CAFile         string // PEM roots that sign the endpoint's certificate
	CertFile       string // PEM client certificate, for mutual TLS
	KeyFile        string // its PEM private key
	ServerName     string // expected name in the endpoint's certificate
	InsecureVerify bool   // skip verifying the endpoint's certificate (tests only)
}

// build returns the tls.Config the files describe.
func (t *TLSConfig) build() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureVerify} //nolint:gosec // opt-in, documented as for tests
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, sidelog.Errorf(sidelog.EINVALID, "ship: CA file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, sidelog.Errorf(sidelog.EINVALID, "ship: CA file %s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, sidelog.Errorf(sidelog.EINVALID, "ship: a client certificate needs both a certificate and a key file")
	}
	if t.CertFile != "" {
		c, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, sidelog.Errorf(sidelog.EINVALID, "ship: client certificate: %v", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

// ParseEndpoint checks an OTLP endpoint URL: http or https, a host, no
// query or fragment, no credentials (send them in a header).
func ParseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, sidelog.Errorf(sidelog.EINVALID, "OTLP endpoint %q is not a URL", raw)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, sidelog.Errorf(sidelog.EINVALID, "OTLP endpoint %q: scheme must be http or https", raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, sidelog.Errorf(sidelog.EINVALID, "OTLP endpoint %q has no host", raw)
	case u.User != nil:
		return nil, sidelog.Errorf(sidelog.EINVALID, "OTLP endpoint %q: put credentials in a header, not the URL", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, sidelog.Errorf(sidelog.EINVALID, "OTLP endpoint %q: no query or fragment allowed", raw)
	}
	return u, nil
}

// ParseHeaders reads headers in the form of OTEL_EXPORTER_OTLP_HEADERS:
// comma-separated key=value pairs, values URL-encoded
// ("api-key=abc,x-scope-orgid=team%201").
func ParseHeaders(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, sidelog.Errorf(sidelog.EINVALID, "OTLP header %q: want key=value", pair)
		}
		if !validHeaderName(k) {
			return nil, sidelog.Errorf(sidelog.EINVALID, "OTLP header name %q is not a valid HTTP header name", k)
		}
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, sidelog.Errorf(sidelog.EINVALID, "OTLP header %s: bad escape in value", k)
		}
		if strings.ContainsAny(val, "\r\n\x00") {
			return nil, sidelog.Errorf(sidelog.EINVALID, "OTLP header %s: value holds a control character", k)
		}
		out[strings.ToLower(k)] = val
	}
	return out, nil
}

// validHeaderName reports whether k is an HTTP token (RFC 9110).
func validHeaderName(k string) bool {
	for _, c := range []byte(k) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// newExporter builds the SDK exporter for opts. The exporters' own retries
// are off: the Shipper retries whole batches itself (otlploghttp would not
// retry a refused connection), so it can count them.
func newExporter(o Options) (sdklog.Exporter, error) {
	u, err := ParseEndpoint(o.Endpoint)
	if err != nil {
		return nil, err
	}
	var tlsCfg *tls.Config
	if u.Scheme == "https" {
		t := o.TLS
		if t == nil {
			t = &TLSConfig{}
		}
		if tlsCfg, err = t.build(); err != nil {
			return nil, err
		}
	}
	ctx := context.Background()
	switch o.Protocol {
	case ProtocolGRPC:
		opts := []otlploggrpc.Option{otlploggrpc.WithEndpoint(u.Host), otlploggrpc.WithHeaders(o.Headers),
			otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false}), otlploggrpc.WithTimeout(o.Timeout)}
		if tlsCfg != nil {
			opts = append(opts, otlploggrpc.WithTLSCredentials(credentials.NewTLS(tlsCfg)))
		} else {
			opts = append(opts, otlploggrpc.WithInsecure())
		}
		if o.Compression == "gzip" {
			opts = append(opts, otlploggrpc.WithCompressor("gzip"))
		}
		exp, err := otlploggrpc.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("ship: grpc exporter: %w", err)
		}
		return exp, nil
	default:
		path := u.EscapedPath()
		if path == "" || path == "/" {
			path = "/v1/logs"
		}
		// The exporter's own gzip runs at the default level, which cost
		// the shipper more CPU than everything else in the request; the
		// client compresses at the fastest level instead (see gzipTransport).
		tr := &http.Transport{ // as the exporter's own
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			TLSClientConfig:       tlsCfg,
		}
		var rt http.RoundTripper = tr
		if o.Compression == "gzip" {
			rt = &gzipTransport{base: tr}
		}
		opts := []otlploghttp.Option{otlploghttp.WithEndpoint(u.Host), otlploghttp.WithURLPath(path), otlploghttp.WithHeaders(o.Headers),
			otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}), otlploghttp.WithTimeout(o.Timeout),
			otlploghttp.WithCompression(otlploghttp.NoCompression), otlploghttp.WithHTTPClient(&http.Client{Transport: rt, Timeout: o.Timeout})}
		if tlsCfg == nil {
			opts = append(opts, otlploghttp.WithInsecure())
		}
		exp, err := otlploghttp.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("ship: http exporter: %w", err)
		}
		return httpExporter{exp, tr}, nil
	}
}

// httpExporter closes the connections of its transport on Shutdown.
type httpExporter struct {
	*otlploghttp.Exporter
	tr *http.Transport
}

func (e httpExporter) Shutdown(ctx context.Context) error {
	defer e.tr.CloseIdleConnections()
	return e.Exporter.Shutdown(ctx)
}

// gzipTransport compresses request bodies with gzip at its fastest level
// (a third more bytes than the default level, for a fraction of the CPU)
// and says so in Content-Encoding, as an OTLP/HTTP endpoint expects.
type gzipTransport struct{ base http.RoundTripper }

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// RoundTrip implements http.RoundTripper.
func (t *gzipTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.Header.Get("Content-Encoding") != "" {
		return t.base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(body)/4 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, err = zw.Write(body)
	if err == nil {
		err = zw.Close()
	}
	zw.Reset(io.Discard)
	gzipWriters.Put(zw)
	if err != nil {
		return nil, err
	}
	zipped := buf.Bytes()
	r := req.Clone(req.Context())
	r.Header.Set("Content-Encoding", "gzip")
	r.ContentLength = int64(len(zipped))
	r.Body = io.NopCloser(bytes.NewReader(zipped))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(zipped)), nil }
	return t.base.RoundTrip(r)
}
