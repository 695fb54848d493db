// The children of a SpicepodSet, as server-side apply configurations: the same objects
// core/manifests/spicepodset.ts and functions/workloads build (names, labels, annotations,
// ports, the pod template with its Spicepod checksum and revision), written the way a Go
// team writes them with client-go's apply configurations.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
)

const (
	labelApp                 = "spice.ai/app"
	labelReplica             = "spice.ai/replica"
	labelWorkload            = "spice.ai/workload"
	labelHandler             = "spice.ai/handler"
	labelManagedBy           = "app.kubernetes.io/managed-by"
	annotationRevision       = "spice.ai/revision"
	annotationSpicepodChecks = "spice.ai/spicepod-checksum"
	spicepodKey              = "spicepod.yaml"
	containerName            = "spiced"
	nobody                   = int64(65534)
)

// Keys users may not set through spec.labels / spec.annotations (core/manifests/names.ts).
var reservedKeys = map[string]bool{
	"spice.ai/app": true, "spice.ai/spicepod": true, "spice.ai/version": true, "spice.ai/cluster": true,
	"spice.ai/cluster-role": true, "spice.ai/cluster-mtls": true, "spice.ai/component": true,
	"spice.ai/observed-generation": true, "spice.ai/rollback": true, "spice.ai/sidecar-injected": true,
	"spice.ai/validation-level": true, "spice.ai/revision": true, "spice.ai/replica": true,
	"spice.ai/workload": true, "spice.ai/handler": true, "spice.ai/spicepod-checksum": true,
}

func withoutReserved(in map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range in {
		if !reservedKeys[k] {
			out[k] = v
		}
	}
	return out
}

// setContext is one SpicepodSet's inputs to every manifest.
type setContext struct {
	set       string
	namespace string
	spec      *SpicepodSetSpec
	owner     *metav1ac.OwnerReferenceApplyConfiguration
}

func commonLabels(c *setContext) map[string]string {
	labels := withoutReserved(c.spec.Labels)
	labels["app.kubernetes.io/name"] = "spiceai"
	labels["app.kubernetes.io/instance"] = c.set
	labels["app.kubernetes.io/component"] = "spicepod"
	labels[labelApp] = c.set
	return labels
}

// objectLabels are the labels of a child object: the set's, plus the ones marking it as the
// workloads controller's (the same as the TypeScript operator writes).
func objectLabels(c *setContext, extra map[string]string) map[string]string {
	labels := commonLabels(c)
	for k, v := range extra {
		labels[k] = v
	}
	labels[labelHandler] = "workloads"
	labels[labelManagedBy] = "spiceai-operator"
	return labels
}

func objectAnnotations(c *setContext) map[string]string {
	a := withoutReserved(c.spec.Annotations)
	if len(a) == 0 {
		return nil
	}
	return a
}

func configMapName(set string) string       { return set + "-spicepod" }
func headlessServiceName(set string) string { return set + "-headless" }
func roleName(set string) string            { return set + "-spicepod" }
func statefulSetName(set string, ordinal int) string {
	return set + "-" + strconv.Itoa(ordinal)
}
func serviceAccountName(c *setContext) string {
	if sa := c.spec.serviceAccount(); sa.Name != "" {
		return sa.Name
	}
	return c.set
}

// ---- the Spicepod

// spicepodYAML renders the Spicepod as the TypeScript operator does (yaml's stringify):
// block style, sequences indented under their key, map keys in the order the API server
// returns them (sorted).
func spicepodYAML(spec *SpicepodSetSpec) (string, error) {
	var value interface{}
	if err := json.Unmarshal(spec.Spicepod.Raw, &value); err != nil {
		return "", fmt.Errorf("spec.spicepod: %w", err)
	}
	if s, ok := value.(string); ok { // the older manifests' YAML string
		if err := yaml.Unmarshal([]byte(s), &value); err != nil {
			return "", fmt.Errorf("spec.spicepod is not valid YAML: %w", err)
		}
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(integral(value)); err != nil {
		return "", err
	}
	return out.String(), nil
}

// integral turns whole float64 numbers (how encoding/json decodes every number) into int64s,
// so that 1000000 is written as JavaScript writes it, not as 1e+06.
func integral(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, x := range t {
			t[k] = integral(x)
		}
	case []interface{}:
		for i, x := range t {
			t[i] = integral(x)
		}
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int64(t)
		}
	}
	return v
}

// ---- content hashes, as core/manifests/hash.ts computes them

// canonicalJSON writes JSON with sorted keys, as core/manifests/hash.ts's canonicalJson does
// (JavaScript's JSON.stringify escaping; numbers as written).
func canonicalJSON(v interface{}, out *strings.Builder) {
	switch t := v.(type) {
	case nil:
		out.WriteString("null")
	case bool:
		out.WriteString(strconv.FormatBool(t))
	case json.Number:
		out.WriteString(t.String())
	case string:
		jsString(t, out)
	case []interface{}:
		out.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				out.WriteByte(',')
			}
			canonicalJSON(x, out)
		}
		out.WriteByte(']')
	case map[string]interface{}:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				out.WriteByte(',')
			}
			jsString(k, out)
			out.WriteByte(':')
			canonicalJSON(t[k], out)
		}
		out.WriteByte('}')
	default:
		panic(fmt.Sprintf("canonicalJSON: unexpected %T", v))
	}
}

// jsString is JSON.stringify of a string: only quotes, backslashes and control characters escaped.
func jsString(s string, out *strings.Builder) {
	out.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			out.WriteString(`\"`)
		case r == '\\':
			out.WriteString(`\\`)
		case r == '\b':
			out.WriteString(`\b`)
		case r == '\f':
			out.WriteString(`\f`)
		case r == '\n':
			out.WriteString(`\n`)
		case r == '\r':
			out.WriteString(`\r`)
		case r == '\t':
			out.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(out, `\u%04x`, r)
		case r == utf8.RuneError:
			out.WriteString(`\ufffd`)
		default:
			out.WriteRune(r)
		}
	}
	out.WriteByte('"')
}

// contentHash is core/manifests/hash.ts's contentHash: hex SHA-256 of the canonical JSON, shortened.
func contentHash(v interface{}, length int) string {
	var b strings.Builder
	canonicalJSON(v, &b)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])[:length]
}

// contentHashOfJSON hashes an object given as its JSON encoding (an apply configuration).
func contentHashOfJSON(encoded []byte, length int) string {
	dec := json.NewDecoder(bytes.NewReader(encoded))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		panic(err)
	}
	return contentHash(v, length)
}

// ---- the pod template

func podTemplate(c *setContext, checksum string, selectorLabels map[string]string, revision string) *corev1ac.PodTemplateSpecApplyConfiguration {
	spec := c.spec
	img := spec.image()
	repository := img.Name
	if img.Registry != "" {
		repository = strings.TrimRight(img.Registry, "/") + "/" + img.Name
	}
	labels := commonLabels(c)
	for k, v := range selectorLabels {
		labels[k] = v
	}
	annotations := withoutReserved(spec.Annotations)
	annotations[annotationSpicepodChecks] = checksum
	if revision != "" {
		annotations[annotationRevision] = revision
	}
	probe := func(path string) *corev1ac.ProbeApplyConfiguration {
		return corev1ac.Probe().
			WithHTTPGet(corev1ac.HTTPGetAction().WithPath(path).WithPort(intstr.FromString("http"))).
			WithTimeoutSeconds(1).WithPeriodSeconds(10).WithFailureThreshold(3)
	}
	container := corev1ac.Container().
		WithName(containerName).
		WithImage(repository+":"+img.Tag).
		WithImagePullPolicy(img.PullPolicy).
		WithCommand("/usr/local/bin/spiced").
		WithArgs(
			"--http", fmt.Sprintf("0.0.0.0:%d", spec.httpPort()),
			"--flight", fmt.Sprintf("0.0.0.0:%d", spec.flightPort()),
			"--metrics", fmt.Sprintf("0.0.0.0:%d", spec.metricsPort()),
		).
		WithWorkingDir("/app").
		WithPorts(
			corev1ac.ContainerPort().WithName("http").WithContainerPort(spec.httpPort()).WithProtocol(corev1.ProtocolTCP),
			corev1ac.ContainerPort().WithName("flight").WithContainerPort(spec.flightPort()).WithProtocol(corev1.ProtocolTCP),
			corev1ac.ContainerPort().WithName("metrics").WithContainerPort(spec.metricsPort()).WithProtocol(corev1.ProtocolTCP),
		).
		WithVolumeMounts(corev1ac.VolumeMount().WithName("spicepod").WithMountPath("/app/" + spicepodKey).WithSubPath(spicepodKey).WithReadOnly(true)).
		WithSecurityContext(corev1ac.SecurityContext().WithAllowPrivilegeEscalation(false).WithCapabilities(corev1ac.Capabilities().WithDrop("ALL")).
			WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))).
		WithLivenessProbe(probe("/health")).
		WithReadinessProbe(probe("/v1/ready"))
	for i := range spec.Env {
		env := &corev1ac.EnvVarApplyConfiguration{}
		roundTrip(&spec.Env[i], env)
		container.WithEnv(env)
	}
	if spec.Resources != nil {
		resources := &corev1ac.ResourceRequirementsApplyConfiguration{}
		roundTrip(spec.Resources, resources)
		container.WithResources(resources)
	}
	podSpec := corev1ac.PodSpec().
		WithSecurityContext(corev1ac.PodSecurityContext().WithRunAsNonRoot(true).WithRunAsUser(nobody).WithRunAsGroup(nobody).WithFSGroup(nobody).
			WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))).
		WithContainers(container).
		WithVolumes(corev1ac.Volume().WithName("spicepod").WithConfigMap(
			corev1ac.ConfigMapVolumeSource().WithName(configMapName(c.set)).WithItems(corev1ac.KeyToPath().WithKey(spicepodKey).WithPath(spicepodKey))))
	if sa := spec.serviceAccount(); sa.Enabled {
		podSpec.WithServiceAccountName(serviceAccountName(c))
	}
	if img.PullSecret != "" {
		podSpec.WithImagePullSecrets(corev1ac.LocalObjectReference().WithName(img.PullSecret))
	}
	return corev1ac.PodTemplateSpec().
		WithLabels(labels).
		WithAnnotations(annotations).
		WithSpec(podSpec)
}

func roundTrip(in, out interface{}) {
	b, err := json.Marshal(in)
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		panic(err)
	}
}

// revisioned is the pod template's revision (the hash of the template before any workload's
// selector labels are added) and a way to build it for a workload.
type revisioned struct {
	revision string
	template func(selectorLabels map[string]string) *corev1ac.PodTemplateSpecApplyConfiguration
}

func revisionedTemplate(c *setContext, spicepod string) revisioned {
	checksum := contentHash(spicepod, 16)
	base, err := json.Marshal(podTemplate(c, checksum, nil, ""))
	if err != nil {
		panic(err)
	}
	revision := contentHashOfJSON(base, 10)
	return revisioned{revision: revision, template: func(selector map[string]string) *corev1ac.PodTemplateSpecApplyConfiguration {
		return podTemplate(c, checksum, selector, revision)
	}}
}

// ---- the children

func desiredConfigMap(c *setContext, spicepod string) *corev1ac.ConfigMapApplyConfiguration {
	cm := corev1ac.ConfigMap(configMapName(c.set), c.namespace).
		WithLabels(objectLabels(c, nil)).
		WithOwnerReferences(c.owner).
		WithData(map[string]string{spicepodKey: spicepod})
	if a := objectAnnotations(c); a != nil {
		cm.WithAnnotations(a)
	}
	return cm
}

func desiredService(c *setContext) *corev1ac.ServiceApplyConfiguration {
	s := c.spec
	svc := corev1ac.Service(c.set, c.namespace).
		WithLabels(objectLabels(c, nil)).
		WithOwnerReferences(c.owner).
		WithSpec(corev1ac.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithSelector(map[string]string{labelApp: c.set}).
			WithPorts(
				corev1ac.ServicePort().WithName("http").WithPort(8090).WithTargetPort(intstr.FromInt32(s.httpPort())).WithProtocol(corev1.ProtocolTCP),
				corev1ac.ServicePort().WithName("flight").WithPort(50051).WithTargetPort(intstr.FromInt32(s.flightPort())).WithProtocol(corev1.ProtocolTCP),
				corev1ac.ServicePort().WithName("metrics").WithPort(9090).WithTargetPort(intstr.FromInt32(s.metricsPort())).WithProtocol(corev1.ProtocolTCP),
			))
	if a := objectAnnotations(c); a != nil {
		svc.WithAnnotations(a)
	}
	return svc
}

func desiredHeadlessService(c *setContext) *corev1ac.ServiceApplyConfiguration {
	s := c.spec
	svc := corev1ac.Service(headlessServiceName(c.set), c.namespace).
		WithLabels(objectLabels(c, nil)).
		WithOwnerReferences(c.owner).
		WithSpec(corev1ac.ServiceSpec().
			WithClusterIP("None").
			WithPublishNotReadyAddresses(true).
			WithSelector(map[string]string{labelApp: c.set}).
			WithPorts(
				corev1ac.ServicePort().WithName("http").WithPort(s.httpPort()).WithTargetPort(intstr.FromInt32(s.httpPort())).WithProtocol(corev1.ProtocolTCP),
				corev1ac.ServicePort().WithName("flight").WithPort(s.flightPort()).WithTargetPort(intstr.FromInt32(s.flightPort())).WithProtocol(corev1.ProtocolTCP),
			))
	if a := objectAnnotations(c); a != nil {
		svc.WithAnnotations(a)
	}
	return svc
}

// desiredServiceAccountObjects: the ServiceAccount (its own annotations only: IRSA), Role and
// RoleBinding, when the set creates its own.
func desiredServiceAccountObjects(c *setContext) (*corev1ac.ServiceAccountApplyConfiguration, *rbacv1ac.RoleApplyConfiguration, *rbacv1ac.RoleBindingApplyConfiguration) {
	sa := c.spec.serviceAccount()
	if !sa.Enabled || !sa.Create {
		return nil, nil, nil
	}
	account := corev1ac.ServiceAccount(serviceAccountName(c), c.namespace).WithLabels(objectLabels(c, nil)).WithOwnerReferences(c.owner)
	if len(sa.Annotations) > 0 {
		account.WithAnnotations(sa.Annotations)
	}
	role := rbacv1ac.Role(roleName(c.set), c.namespace).WithLabels(objectLabels(c, nil)).WithOwnerReferences(c.owner).
		WithRules(rbacv1ac.PolicyRule().WithAPIGroups("").WithResources("secrets", "configmaps").WithVerbs("get", "list", "watch"))
	binding := rbacv1ac.RoleBinding(roleName(c.set), c.namespace).WithLabels(objectLabels(c, nil)).WithOwnerReferences(c.owner).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup("rbac.authorization.k8s.io").WithKind("Role").WithName(roleName(c.set))).
		WithSubjects(rbacv1ac.Subject().WithKind("ServiceAccount").WithName(serviceAccountName(c)).WithNamespace(c.namespace))
	if a := objectAnnotations(c); a != nil {
		role.WithAnnotations(a)
		binding.WithAnnotations(a)
	}
	return account, role, binding
}

func deploymentSelector(set string) map[string]string {
	return map[string]string{labelApp: set, labelWorkload: "deployment"}
}

func desiredDeployment(c *setContext, template *corev1ac.PodTemplateSpecApplyConfiguration, replicas int32) *appsv1ac.DeploymentApplyConfiguration {
	d := appsv1ac.Deployment(c.set, c.namespace).
		WithLabels(objectLabels(c, nil)).
		WithOwnerReferences(c.owner).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(replicas).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(deploymentSelector(c.set))).
			WithStrategy(appsv1ac.DeploymentStrategy().WithType("RollingUpdate").WithRollingUpdate(
				appsv1ac.RollingUpdateDeployment().WithMaxSurge(intstr.FromInt32(1)).WithMaxUnavailable(intstr.FromInt32(0)))).
			WithTemplate(template))
	if a := objectAnnotations(c); a != nil {
		d.WithAnnotations(a)
	}
	return d
}

func statefulSetSelector(set string, ordinal int) map[string]string {
	return map[string]string{labelApp: set, labelReplica: strconv.Itoa(ordinal)}
}

func desiredStatefulSet(c *setContext, ordinal int, template *corev1ac.PodTemplateSpecApplyConfiguration, replicas int32) *appsv1ac.StatefulSetApplyConfiguration {
	s := appsv1ac.StatefulSet(statefulSetName(c.set, ordinal), c.namespace).
		WithLabels(objectLabels(c, map[string]string{labelReplica: strconv.Itoa(ordinal)})).
		WithOwnerReferences(c.owner).
		WithSpec(appsv1ac.StatefulSetSpec().
			WithReplicas(replicas).
			WithServiceName(headlessServiceName(c.set)).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(statefulSetSelector(c.set, ordinal))).
			WithPodManagementPolicy("Parallel").
			WithUpdateStrategy(appsv1ac.StatefulSetUpdateStrategy().WithType("RollingUpdate")).
			WithTemplate(template))
	if a := objectAnnotations(c); a != nil {
		s.WithAnnotations(a)
	}
	return s
}
