package ship

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strings"

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
		opts := []otlploghttp.Option{otlploghttp.WithEndpoint(u.Host), otlploghttp.WithURLPath(path), otlploghttp.WithHeaders(o.Headers),
			otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}), otlploghttp.WithTimeout(o.Timeout)}
		if tlsCfg != nil {
			opts = append(opts, otlploghttp.WithTLSClientConfig(tlsCfg))
		} else {
			opts = append(opts, otlploghttp.WithInsecure())
		}
		if o.Compression == "gzip" {
			opts = append(opts, otlploghttp.WithCompression(otlploghttp.GzipCompression))
		} else {
			opts = append(opts, otlploghttp.WithCompression(otlploghttp.NoCompression))
		}
		exp, err := otlploghttp.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("ship: http exporter: %w", err)
		}
		return exp, nil
	}
}
