// promql reads a JSON array of PromQL expressions on stdin, parses each with
// Prometheus's own parser (github.com/prometheus/prometheus/promql/parser),
// and prints one JSON array: for each expression, the parser's error, or the
// metric names its selectors query and each selector's label matchers. Used by the chart tests to check the
// PrometheusRule's and the Grafana dashboard's queries.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

type matcher struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

type selector struct {
	Metric   string    `json:"metric"`
	Matchers []matcher `json:"matchers"`
}

type result struct {
	Expr      string     `json:"expr"`
	Error     string     `json:"error,omitempty"`
	Metrics   []string   `json:"metrics"`
	Selectors []selector `json:"selectors"`
}

func main() {
	var exprs []string
	if err := json.NewDecoder(os.Stdin).Decode(&exprs); err != nil {
		fmt.Fprintln(os.Stderr, "promql: stdin is not a JSON array of strings:", err)
		os.Exit(2)
	}
	// The default options: what Prometheus accepts without feature flags.
	p := parser.NewParser(parser.Options{})
	out := make([]result, 0, len(exprs))
	for _, e := range exprs {
		r := result{Expr: e, Metrics: []string{}, Selectors: []selector{}}
		expr, err := p.ParseExpr(e)
		if err != nil {
			r.Error = err.Error()
			out = append(out, r)
			continue
		}
		seen := map[string]bool{}
		parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
			if vs, ok := node.(*parser.VectorSelector); ok {
				sel := selector{Matchers: []matcher{}}
				for _, m := range vs.LabelMatchers {
					if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
						seen[m.Value] = true
						sel.Metric = m.Value
						continue
					}
					sel.Matchers = append(sel.Matchers, matcher{Name: m.Name, Type: m.Type.String(), Value: m.Value})
				}
				r.Selectors = append(r.Selectors, sel)
			}
			return nil
		})
		for name := range seen {
			r.Metrics = append(r.Metrics, name)
		}
		sort.Strings(r.Metrics)
		out = append(out, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
