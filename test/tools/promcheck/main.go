// promcheck reads a Prometheus text exposition on stdin, parses it with the
// Prometheus project's own parser (github.com/prometheus/common/expfmt) and
// lints it with promlint (what `promtool check metrics` runs). It prints one
// JSON document: the families as parsed and the lint problems. A parse error
// exits 1 with the parser's message on stderr.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// num is a float64 that JSON cannot hold when it is not finite: then it is
// written as the string "NaN", "Infinity" or "-Infinity" (JavaScript's Number() reads those).
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`), nil
	case math.IsInf(f, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(f)
}

type sample struct {
	Labels  map[string]string `json:"labels"`
	Value   *num              `json:"value,omitempty"`
	Count   *uint64           `json:"count,omitempty"`
	Sum     *num              `json:"sum,omitempty"`
	Buckets map[string]uint64 `json:"buckets,omitempty"`
}

type family struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Help    string   `json:"help"`
	Metrics []sample `json:"metrics"`
}

type problem struct {
	Metric string `json:"metric"`
	Text   string `json:"text"`
}

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(bytes.NewReader(in))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	names := make([]string, 0, len(mfs))
	for name := range mfs {
		names = append(names, name)
	}
	sort.Strings(names)
	out := struct {
		Families []family  `json:"families"`
		Problems []problem `json:"problems"`
	}{Families: []family{}, Problems: []problem{}}
	list := make([]*dto.MetricFamily, 0, len(names))
	for _, name := range names {
		mf := mfs[name]
		list = append(list, mf)
		f := family{Name: name, Type: mf.GetType().String(), Help: mf.GetHelp(), Metrics: []sample{}}
		for _, m := range mf.GetMetric() {
			s := sample{Labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.Labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				v := num(m.GetCounter().GetValue())
				s.Value = &v
			case dto.MetricType_GAUGE:
				v := num(m.GetGauge().GetValue())
				s.Value = &v
			case dto.MetricType_UNTYPED:
				v := num(m.GetUntyped().GetValue())
				s.Value = &v
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				c, sum := h.GetSampleCount(), num(h.GetSampleSum())
				s.Count, s.Sum = &c, &sum
				s.Buckets = map[string]uint64{}
				for _, b := range h.GetBucket() {
					s.Buckets[fmt.Sprint(b.GetUpperBound())] = b.GetCumulativeCount()
				}
			case dto.MetricType_SUMMARY:
				c, sum := m.GetSummary().GetSampleCount(), num(m.GetSummary().GetSampleSum())
				s.Count, s.Sum = &c, &sum
			}
			f.Metrics = append(f.Metrics, s)
		}
		out.Families = append(out.Families, f)
	}
	problems, err := promlint.NewWithMetricFamilies(list).Lint()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for _, p := range problems {
		out.Problems = append(out.Problems, problem{Metric: p.Metric, Text: p.Text})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
