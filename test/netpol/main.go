// netpol-eval answers "is this traffic allowed?" for a set of Kubernetes
// NetworkPolicies, using cyclonus's policy engine (github.com/mattfenwick/cyclonus,
// pkg/matcher): an evaluator independent of the operator under test.
//
// Input (JSON or YAML, from the file named by the first argument or stdin):
//
//	policies:   NetworkPolicy objects (networking.k8s.io/v1), e.g. the items of `kubectl get networkpolicy -o json`
//	namespaces: {name: {label: value}}
//	pods:       [{id, namespace, labels, ip, ports: [{name, containerPort, protocol}]}]
//	            (a pod without namespace is a host outside the cluster, known by its ip)
//	queries:    [{from: id, to: id, port, protocol}]
//
// Output (JSON): {engine, results: [{from, to, port, protocol, allowed, ingress, egress}]}.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	v1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

const enginePath = "github.com/mattfenwick/cyclonus"

type pod struct {
	ID        string             `json:"id"`
	Namespace string             `json:"namespace"`
	Labels    map[string]string  `json:"labels"`
	IP        string             `json:"ip"`
	Ports     []v1.ContainerPort `json:"ports"`
}

type query struct {
	From     string      `json:"from"`
	To       string      `json:"to"`
	Port     int         `json:"port"`
	Protocol v1.Protocol `json:"protocol"`
}

type input struct {
	Policies   []*networkingv1.NetworkPolicy `json:"policies"`
	Namespaces map[string]map[string]string  `json:"namespaces"`
	Pods       []pod                         `json:"pods"`
	Queries    []query                       `json:"queries"`
}

type result struct {
	query
	Allowed bool `json:"allowed"`
	Ingress bool `json:"ingress"`
	Egress  bool `json:"egress"`
}

type output struct {
	Engine  string   `json:"engine"`
	Results []result `json:"results"`
}

func engineVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == enginePath {
				return dep.Path + "@" + dep.Version
			}
		}
	}
	return enginePath
}

func run() error {
	var raw []byte
	var err error
	if len(os.Args) > 1 && os.Args[1] != "-" {
		raw, err = os.ReadFile(os.Args[1])
	} else {
		raw, err = io.ReadAll(os.Stdin)
	}
	if err != nil {
		return err
	}
	var in input
	if err := yaml.UnmarshalStrict(raw, &in); err != nil {
		return fmt.Errorf("reading the input: %w", err)
	}
	for _, p := range in.Policies {
		if len(p.Spec.PolicyTypes) == 0 {
			return fmt.Errorf("policy %s/%s has no policyTypes: pass policies as the API server stores them", p.Namespace, p.Name)
		}
	}
	policy := matcher.BuildNetworkPolicies(true, in.Policies)

	peers := map[string]*matcher.TrafficPeer{}
	ports := map[string][]v1.ContainerPort{}
	for _, p := range in.Pods {
		if p.ID == "" {
			return fmt.Errorf("a pod has no id")
		}
		peer := &matcher.TrafficPeer{IP: p.IP}
		if p.Namespace != "" {
			nsLabels, ok := in.Namespaces[p.Namespace]
			if !ok {
				return fmt.Errorf("pod %s: namespace %s is not in namespaces", p.ID, p.Namespace)
			}
			labels := p.Labels
			if labels == nil {
				labels = map[string]string{}
			}
			peer.Internal = &matcher.InternalPeer{PodLabels: labels, NamespaceLabels: nsLabels, Namespace: p.Namespace}
		}
		peers[p.ID] = peer
		ports[p.ID] = p.Ports
	}

	out := output{Engine: engineVersion(), Results: []result{}}
	for _, q := range in.Queries {
		from, ok := peers[q.From]
		if !ok {
			return fmt.Errorf("query: unknown pod %q", q.From)
		}
		to, ok := peers[q.To]
		if !ok {
			return fmt.Errorf("query: unknown pod %q", q.To)
		}
		if q.Protocol == "" {
			q.Protocol = v1.ProtocolTCP
		}
		// Named ports in a policy refer to the destination pod's container ports.
		portName := ""
		for _, cp := range ports[q.To] {
			protocol := cp.Protocol
			if protocol == "" {
				protocol = v1.ProtocolTCP
			}
			if int(cp.ContainerPort) == q.Port && protocol == q.Protocol {
				portName = cp.Name
			}
		}
		verdict := policy.IsTrafficAllowed(&matcher.Traffic{
			Source:           from,
			Destination:      to,
			ResolvedPort:     q.Port,
			ResolvedPortName: portName,
			Protocol:         q.Protocol,
		})
		out.Results = append(out.Results, result{
			query:   q,
			Allowed: verdict.IsAllowed(),
			Ingress: verdict.Ingress.IsAllowed(),
			Egress:  verdict.Egress.IsAllowed(),
		})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "netpol-eval:", err)
		os.Exit(2)
	}
}
