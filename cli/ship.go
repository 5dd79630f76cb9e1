package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sidelog/sidelog/ship"
)

var shipCommand = &command{
	name:    "ship",
	summary: "send the records not yet shipped to an OpenTelemetry Collector",
	usage: `usage: sidelog ship [--db PATH] --endpoint URL [--protocol P] [--header K=V]... [flags]

Sends every record of the log database that was not shipped yet to an OTLP
endpoint (an OpenTelemetry Collector), in write order, and saves how far it
got in the database after each acknowledged batch: run it again and it
continues where it stopped. The first run backfills the whole database.
The position is shared with the application's own shipper of the same
--name, so a host never sends a record twice (docs/shipping.md).

Ship a database that no process is writing, or the application's own
database through the application (SIDELOG_OTLP_ENDPOINT): records that
another process is writing at that moment may be missed.

The endpoint and the other settings default to the SIDELOG_OTLP_*
variables the reference application reads.

Examples:
  sidelog ship --db logs.db --endpoint http://collector:4318
  sidelog ship --endpoint http://collector:4317 --protocol grpc --host web-3
  sidelog ship --endpoint https://otlp.example.com --header "api-key=abc" --ca ca.pem
`,
	run: (*CLI).runShip,
}

// headerFlags collects repeated --header key=value flags.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ",") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func (c *CLI) runShip(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("ship")
	endpoint := fs.String("endpoint", c.Getenv(ship.EnvEndpoint), "the OTLP endpoint's `URL` (default $"+ship.EnvEndpoint+")")
	protocol := fs.String("protocol", c.Getenv(ship.EnvProtocol), "`PROTOCOL`: http/protobuf (default) or grpc")
	var headers headerFlags
	fs.Var(&headers, "header", "send the header `K=V` with every request (repeatable; value URL-encoded)")
	ca := fs.String("ca", c.Getenv(ship.EnvCAFile), "PEM `FILE` of the roots that sign an https endpoint's certificate")
	cert := fs.String("cert", c.Getenv(ship.EnvCertFile), "PEM client certificate `FILE`, for mutual TLS")
	key := fs.String("key", c.Getenv(ship.EnvKeyFile), "PEM `FILE` of the client certificate's key")
	service := fs.String("service", "saas", "the service.name resource attribute")
	hostName := fs.String("host", "", "the host.name resource attribute (default: this machine's name)")
	name := fs.String("name", "otlp", "the shipper `NAME` the position is saved under")
	batch := fs.Int("batch", 1000, "records per export request")
	retryFor := fs.Duration("retry-for", time.Minute, "give up when no batch was acknowledged for this `DURATION`")
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if *endpoint == "" {
		return usageError("give --endpoint URL (or set %s)", ship.EnvEndpoint)
	}
	if *retryFor <= 0 || *batch <= 0 || *batch > 100_000 {
		return usageError("--retry-for must be positive and --batch between 1 and 100000")
	}
	o := ship.Options{Endpoint: *endpoint, Protocol: ship.Protocol(*protocol), Compression: c.Getenv(ship.EnvCompression),
		ServiceName: *service, HostName: *hostName, Name: *name, BatchSize: *batch}
	hs := c.Getenv(ship.EnvHeaders)
	if len(headers) > 0 {
		hs = strings.Join(headers, ",")
	}
	if o.Headers, err = ship.ParseHeaders(hs); err != nil {
		return err
	}
	if o.ResourceAttrs, err = ship.ParseHeaders(c.Getenv(ship.EnvResourceAttrs)); err != nil {
		return fmt.Errorf("%s: %w", ship.EnvResourceAttrs, err)
	}
	if *ca != "" || *cert != "" || *key != "" {
		o.TLS = &ship.TLSConfig{CAFile: *ca, CertFile: *cert, KeyFile: *key}
	}
	if o.HostName == "" {
		o.HostName, _ = os.Hostname()
	}
	db, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	sh, err := ship.New(db, o)
	if err != nil {
		return err
	}
	defer sh.Close(context.WithoutCancel(ctx))
	start := time.Now()
	n, err := sh.Drain(ctx, *retryFor)
	st := sh.Stats()
	fmt.Fprintf(c.Stdout, "shipped %s records to %s in %s (%d retries)\n", formatCount(n), Sanitize(*endpoint),
		time.Since(start).Round(time.Millisecond), st.Retried)
	if st.Lost > 0 {
		fmt.Fprintf(c.Stdout, "%s records were removed by retention before they were shipped\n", formatCount(st.Lost))
	}
	return err
}
