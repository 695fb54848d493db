// otlpreceiver: an OTLP/HTTP metrics receiver on loopback that decodes each
// request with the official OpenTelemetry protocol definitions
// (go.opentelemetry.io/proto/otlp, generated from opentelemetry-proto), the
// judge of the operator's OTLP push (test/integration/otlp.test.ts).
//
// It listens on 127.0.0.1 (any free port), prints {"listening":"127.0.0.1:PORT"}
// and then one JSON line per request on stdout: the path, content type and
// headers it got, and the request decoded by the official bindings and
// re-encoded with protojson (the OTLP/JSON mapping: int64 as strings, enums
// by name). A body the bindings refuse gets 400 and a line with "error".
// As an OTLP/HTTP server does (opentelemetry-proto docs/specification.md,
// "OTLP/HTTP"): POST only, application/x-protobuf or application/json, gzip
// when Content-Encoding says so, and an ExportMetricsServiceResponse in the
// request's encoding on success.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"

	collectormetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

type line struct {
	Path            string            `json:"path"`
	ContentType     string            `json:"contentType"`
	ContentEncoding string            `json:"contentEncoding,omitempty"`
	Headers         map[string]string `json:"headers"`
	Request         json.RawMessage   `json:"request,omitempty"`
	Error           string            `json:"error,omitempty"`
}

func main() {
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	emit := func(v any) {
		mu.Lock()
		defer mu.Unlock()
		b, _ := json.Marshal(v)
		out.Write(append(b, '\n'))
		out.Flush()
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := line{Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), ContentEncoding: r.Header.Get("Content-Encoding"), Headers: map[string]string{}}
		for name, values := range r.Header {
			l.Headers[strings.ToLower(name)] = strings.Join(values, ",")
		}
		fail := func(status int, err error) {
			l.Error = err.Error()
			emit(l)
			http.Error(w, err.Error(), status)
		}
		if r.Method != http.MethodPost {
			fail(http.StatusMethodNotAllowed, fmt.Errorf("method %s: OTLP/HTTP takes POST", r.Method))
			return
		}
		var body io.Reader = r.Body
		switch l.ContentEncoding {
		case "", "identity":
		case "gzip":
			z, err := gzip.NewReader(r.Body)
			if err != nil {
				fail(http.StatusBadRequest, fmt.Errorf("gzip: %w", err))
				return
			}
			body = z
		default:
			fail(http.StatusUnsupportedMediaType, fmt.Errorf("content-encoding %q", l.ContentEncoding))
			return
		}
		raw, err := io.ReadAll(body)
		if err != nil {
			fail(http.StatusBadRequest, err)
			return
		}
		request := &collectormetrics.ExportMetricsServiceRequest{}
		var response []byte
		switch l.ContentType {
		case "application/x-protobuf":
			err = proto.Unmarshal(raw, request)
			response, _ = proto.Marshal(&collectormetrics.ExportMetricsServiceResponse{})
		case "application/json":
			err = protojson.Unmarshal(raw, request)
			response, _ = protojson.Marshal(&collectormetrics.ExportMetricsServiceResponse{})
		default:
			fail(http.StatusUnsupportedMediaType, fmt.Errorf("content-type %q: OTLP/HTTP takes application/x-protobuf or application/json", l.ContentType))
			return
		}
		if err != nil {
			fail(http.StatusBadRequest, fmt.Errorf("decoding ExportMetricsServiceRequest: %w", err))
			return
		}
		l.Request, _ = protojson.Marshal(request)
		emit(l)
		w.Header().Set("Content-Type", l.ContentType)
		w.Write(response)
	})
	emit(map[string]string{"listening": listener.Addr().String()})
	if err := http.Serve(listener, handler); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
