// The SpicepodSet API (spice.ai/v1) as a Go team would declare it for controller-runtime:
// the fields the benchmark's specs use (the minimal and the 3-replica shapes, paused or
// not, with or without a ServiceAccount), with the same defaults as the CRD's normalized
// form (core/spec/spicepodset.ts). Deep copies are written out, as controller-gen would
// generate them: the cache copies objects on every read, so they must not be slow.
package main

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var GroupVersion = schema.GroupVersion{Group: "spice.ai", Version: "v1"}

type ImageSpec struct {
	Registry   string            `json:"registry,omitempty"`
	Name       string            `json:"name,omitempty"`
	Tag        string            `json:"tag,omitempty"`
	PullPolicy corev1.PullPolicy `json:"pullPolicy,omitempty"`
	PullSecret string            `json:"pullSecret,omitempty"`
}

type ServiceAccountSpec struct {
	Enabled     bool              `json:"enabled,omitempty"`
	Create      bool              `json:"create,omitempty"`
	Name        string            `json:"name,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type UpdateStrategy struct {
	Type           string              `json:"type,omitempty"`
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
}

type SpicepodSetSpec struct {
	Replicas       *int32                       `json:"replicas,omitempty"`
	Image          *ImageSpec                   `json:"image,omitempty"`
	HTTPPort       *int32                       `json:"httpPort,omitempty"`
	FlightPort     *int32                       `json:"flightPort,omitempty"`
	MetricsPort    *int32                       `json:"metricsPort,omitempty"`
	EnableService  *bool                        `json:"enableService,omitempty"`
	Resources      *corev1.ResourceRequirements `json:"resources,omitempty"`
	Env            []corev1.EnvVar              `json:"env,omitempty"`
	ServiceAccount *ServiceAccountSpec          `json:"serviceAccount,omitempty"`
	UpdateStrategy *UpdateStrategy              `json:"updateStrategy,omitempty"`
	Annotations    map[string]string            `json:"annotations,omitempty"`
	Labels         map[string]string            `json:"labels,omitempty"`
	// The Spicepod, free-form (x-kubernetes-preserve-unknown-fields).
	Spicepod runtime.RawExtension `json:"spicepod"`
}

type SpicepodSetStatus struct {
	Replicas      string `json:"replicas,omitempty"`
	ReadyReplicas int32  `json:"readyReplicas"`
	TotalReplicas int32  `json:"totalReplicas"`
	Role          string `json:"role,omitempty"`
	// The scale subresource's labelSelectorPath (kubectl scale, HPA).
	Selector           string             `json:"selector,omitempty"`
	PauseReason        string             `json:"pauseReason,omitempty"`
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	LastUpdated        *metav1.Time       `json:"lastUpdated,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
}

type SpicepodSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              SpicepodSetSpec   `json:"spec,omitempty"`
	Status            SpicepodSetStatus `json:"status,omitempty"`
}

type SpicepodSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SpicepodSet `json:"items"`
}

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion, &SpicepodSet{}, &SpicepodSetList{})
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}

// ---- the normalized view: defaults as core/spec applies them

func (s *SpicepodSetSpec) replicas() int32 {
	if s.Replicas == nil {
		return 1
	}
	return *s.Replicas
}

func orInt(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

func (s *SpicepodSetSpec) httpPort() int32    { return orInt(s.HTTPPort, 8090) }
func (s *SpicepodSetSpec) flightPort() int32  { return orInt(s.FlightPort, 50051) }
func (s *SpicepodSetSpec) metricsPort() int32 { return orInt(s.MetricsPort, 9090) }
func (s *SpicepodSetSpec) enableService() bool {
	return s.EnableService == nil || *s.EnableService
}

func (s *SpicepodSetSpec) image() ImageSpec {
	img := ImageSpec{}
	if s.Image != nil {
		img = *s.Image
	}
	if img.Name == "" {
		img.Name = "spiceai/spiceai"
	}
	if img.Tag == "" {
		img.Tag = "latest-models"
	}
	if img.PullPolicy == "" {
		bare := img.Tag
		for i := range bare {
			if bare[i] == '@' {
				bare = bare[:i]
				break
			}
		}
		if bare == "latest" || len(bare) > 7 && bare[:7] == "latest-" {
			img.PullPolicy = corev1.PullAlways
		} else {
			img.PullPolicy = corev1.PullIfNotPresent
		}
	}
	return img
}

func (s *SpicepodSetSpec) serviceAccount() ServiceAccountSpec {
	if s.ServiceAccount == nil {
		return ServiceAccountSpec{}
	}
	return *s.ServiceAccount
}

func (s *SpicepodSetSpec) strategy() UpdateStrategy {
	st := UpdateStrategy{}
	if s.UpdateStrategy != nil {
		st = *s.UpdateStrategy
	}
	if st.Type == "" {
		st.Type = "RollingOrdered"
	}
	return st
}

// ---- deep copies (what controller-gen generates)

func copyStringMap(in map[string]string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

func copyInt32(in *int32) *int32 {
	if in == nil {
		return nil
	}
	v := *in
	return &v
}

func (in *SpicepodSetSpec) DeepCopyInto(out *SpicepodSetSpec) {
	*out = *in
	out.Replicas = copyInt32(in.Replicas)
	out.HTTPPort = copyInt32(in.HTTPPort)
	out.FlightPort = copyInt32(in.FlightPort)
	out.MetricsPort = copyInt32(in.MetricsPort)
	if in.Image != nil {
		img := *in.Image
		out.Image = &img
	}
	if in.EnableService != nil {
		v := *in.EnableService
		out.EnableService = &v
	}
	if in.Resources != nil {
		out.Resources = in.Resources.DeepCopy()
	}
	if in.Env != nil {
		out.Env = make([]corev1.EnvVar, len(in.Env))
		for i := range in.Env {
			in.Env[i].DeepCopyInto(&out.Env[i])
		}
	}
	if in.ServiceAccount != nil {
		sa := *in.ServiceAccount
		sa.Annotations = copyStringMap(in.ServiceAccount.Annotations)
		out.ServiceAccount = &sa
	}
	if in.UpdateStrategy != nil {
		st := *in.UpdateStrategy
		if in.UpdateStrategy.MaxUnavailable != nil {
			v := *in.UpdateStrategy.MaxUnavailable
			st.MaxUnavailable = &v
		}
		out.UpdateStrategy = &st
	}
	out.Annotations = copyStringMap(in.Annotations)
	out.Labels = copyStringMap(in.Labels)
	in.Spicepod.DeepCopyInto(&out.Spicepod)
}

func (in *SpicepodSetStatus) DeepCopyInto(out *SpicepodSetStatus) {
	*out = *in
	if in.LastUpdated != nil {
		out.LastUpdated = in.LastUpdated.DeepCopy()
	}
	if in.Conditions != nil {
		out.Conditions = make([]metav1.Condition, len(in.Conditions))
		for i := range in.Conditions {
			in.Conditions[i].DeepCopyInto(&out.Conditions[i])
		}
	}
}

func (in *SpicepodSet) DeepCopyInto(out *SpicepodSet) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	in.Spec.DeepCopyInto(&out.Spec)
	in.Status.DeepCopyInto(&out.Status)
}

func (in *SpicepodSet) DeepCopy() *SpicepodSet {
	if in == nil {
		return nil
	}
	out := new(SpicepodSet)
	in.DeepCopyInto(out)
	return out
}

func (in *SpicepodSet) DeepCopyObject() runtime.Object { return in.DeepCopy() }

func (in *SpicepodSetList) DeepCopyObject() runtime.Object {
	if in == nil {
		return nil
	}
	out := new(SpicepodSetList)
	*out = *in
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]SpicepodSet, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
	return out
}
