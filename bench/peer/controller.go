// The SpicepodSet reconciler: what functions/workloads decides, written the way the kubebuilder
// scaffold and book lead a Go team to write it. Every reconcile reads the set and what it owns
// from the manager's cache, server-side applies every child with one field owner (no-op applies
// included: the API server finds them unchanged), derives the status from the pods, updates it
// when it changed, and records the same Events.
package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

const (
	fieldOwner = "spicepodset-peer"
	// Index keys, as the kubebuilder book's CronJob controller indexes its Jobs by owner.
	ownerIndex = ".metadata.controller"
	appIndex   = "spice.ai/app"
	// Re-check a rollout in progress even if no event arrives.
	progressRecheck = 30 * time.Second
)

type SpicepodSetReconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Recorder record.EventRecorder
}

func (r *SpicepodSetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	var set SpicepodSet
	if err := r.Get(ctx, req.NamespacedName, &set); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !set.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // the garbage collector removes what it owns
	}
	spec := &set.Spec
	c := &setContext{
		set:       set.Name,
		namespace: set.Namespace,
		spec:      spec,
		owner: metav1ac.OwnerReference().WithAPIVersion(GroupVersion.String()).WithKind("SpicepodSet").
			WithName(set.Name).WithUID(set.UID).WithController(true).WithBlockOwnerDeletion(true),
	}
	spicepod, err := spicepodYAML(spec)
	if err != nil {
		return ctrl.Result{}, reconcile.TerminalError(err)
	}
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(set.Namespace), client.MatchingFields{appIndex: set.Name}); err != nil {
		return ctrl.Result{}, err
	}
	replicas := spec.replicas()
	tmpl := revisionedTemplate(c, spicepod)

	apply := []runtime.ApplyConfiguration{desiredConfigMap(c, spicepod)}
	if sa, role, binding := desiredServiceAccountObjects(c); sa != nil {
		apply = append(apply, sa, role, binding)
	}
	if spec.enableService() {
		apply = append(apply, desiredService(c))
	}
	var w workload
	if workloadMode(spec) == "Deployment" {
		w = deploymentWorkload(c, pods.Items, replicas, tmpl)
	} else {
		var owned appsv1.StatefulSetList
		if err := r.List(ctx, &owned, client.InNamespace(set.Namespace), client.MatchingFields{ownerIndex: string(set.UID)}); err != nil {
			return ctrl.Result{}, err
		}
		w = statefulSetWorkload(c, owned.Items, pods.Items, replicas, tmpl)
	}
	apply = append(apply, w.apply...)
	for _, obj := range apply {
		if err := r.Apply(ctx, obj, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			return ctrl.Result{}, err
		}
	}

	status, events := desiredStatus(&set, replicas, w)
	status.LastUpdated = set.Status.LastUpdated
	if !equality.Semantic.DeepEqual(status, set.Status) {
		// The time of the last change, as ours writes status.lastUpdated (the LAST UPDATED column).
		now := metav1.Now()
		status.LastUpdated = &now
		set.Status = status
		if err := r.Status().Update(ctx, &set); err != nil {
			return ctrl.Result{}, err
		}
		log.Info("status updated", "ready", status.Replicas)
	}
	for _, e := range events {
		r.Recorder.Event(&set, e.kind, e.reason, e.message)
	}
	if replicas > 0 && w.updatedReady < replicas {
		return ctrl.Result{RequeueAfter: progressRecheck}, nil
	}
	return ctrl.Result{}, nil
}

// workloadMode: a Deployment for the simple case, per-replica StatefulSets for several replicas.
func workloadMode(spec *SpicepodSetSpec) string {
	if spec.replicas() <= 1 && spec.strategy().Type != "BlueGreen" {
		return "Deployment"
	}
	return "StatefulSets"
}

type workload struct {
	apply        []runtime.ApplyConfiguration
	ready        int32
	updatedReady int32
	waiting      string
	revision     string
}

func isPodReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func deploymentWorkload(c *setContext, pods []corev1.Pod, replicas int32, tmpl revisioned) workload {
	w := workload{revision: tmpl.revision}
	for i := range pods {
		p := &pods[i]
		if p.Labels[labelWorkload] != "deployment" || !isPodReady(p) {
			continue
		}
		w.ready++
		if p.Annotations[annotationRevision] == tmpl.revision {
			w.updatedReady++
		}
	}
	w.ready = min(w.ready, replicas)
	if w.updatedReady < replicas {
		w.waiting = "waiting for the new pod to become Ready"
	}
	w.apply = []runtime.ApplyConfiguration{desiredDeployment(c, tmpl.template(deploymentSelector(c.set)), replicas)}
	return w
}

type replicaState struct {
	ordinal                int
	exists, updated, ready bool
}

var ordinalName = regexp.MustCompile(`-\d+$`)

func statefulSetWorkload(c *setContext, owned []appsv1.StatefulSet, pods []corev1.Pod, replicas int32, tmpl revisioned) workload {
	existing := map[string]*appsv1.StatefulSet{}
	for i := range owned {
		existing[owned[i].Name] = &owned[i]
	}
	podByName := map[string]*corev1.Pod{}
	for i := range pods {
		podByName[pods[i].Name] = &pods[i]
	}
	ordinals := int(replicas)
	if replicas == 0 { // a paused set keeps its StatefulSets at zero replicas
		ordinals = 0
		for name := range existing {
			if ordinalName.MatchString(name) {
				ordinals++
			}
		}
	}
	states := make([]replicaState, ordinals)
	for i := range states {
		sts := existing[statefulSetName(c.set, i)]
		s := replicaState{ordinal: i, exists: sts != nil}
		if sts != nil {
			rev := sts.Spec.Template.Annotations[annotationRevision]
			s.updated = rev == tmpl.revision
			pod := podByName[sts.Name+"-0"]
			s.ready = pod != nil && isPodReady(pod) && pod.Annotations[annotationRevision] == rev
		}
		states[i] = s
	}
	update, waiting := map[int]bool{}, ""
	if replicas > 0 {
		update, waiting = planRollout(c.spec.strategy(), states)
	} else {
		for _, s := range states {
			update[s.ordinal] = true
		}
	}
	w := workload{revision: tmpl.revision, apply: []runtime.ApplyConfiguration{desiredHeadlessService(c)}}
	perReplica := int32(0)
	if replicas > 0 {
		perReplica = 1
	}
	for _, s := range states {
		if s.updated || update[s.ordinal] {
			w.apply = append(w.apply, desiredStatefulSet(c, s.ordinal, tmpl.template(statefulSetSelector(c.set, s.ordinal)), perReplica))
		}
		if s.ready {
			w.ready++
			if s.updated {
				w.updatedReady++
			}
		}
	}
	w.waiting = waiting
	if w.waiting == "" && w.updatedReady < replicas {
		w.waiting = fmt.Sprintf("%d replicas are not Ready yet", replicas-w.updatedReady)
	}
	return w
}

// planRollout is functions/workloads/rollout.ts: which per-replica StatefulSets get the new template now.
func planRollout(strategy UpdateStrategy, replicas []replicaState) (map[int]bool, string) {
	update := map[int]bool{}
	var outdated []replicaState
	for _, r := range replicas {
		if !r.exists {
			update[r.ordinal] = true
		} else if !r.updated {
			outdated = append(outdated, r)
		}
	}
	if len(outdated) == 0 {
		return update, ""
	}
	switch strategy.Type {
	case "RollingParallel":
		for _, r := range outdated {
			if !r.ready {
				update[r.ordinal] = true
			}
		}
		budget := maxUnavailable(strategy, len(replicas))
		unavailable := 0
		for _, r := range replicas {
			if !r.ready || update[r.ordinal] {
				unavailable++
			}
		}
		room := budget - unavailable
		for _, r := range outdated {
			if room <= 0 {
				break
			}
			if r.ready && !update[r.ordinal] {
				update[r.ordinal] = true
				room--
			}
		}
		left := 0
		for _, r := range outdated {
			if !update[r.ordinal] {
				left++
			}
		}
		if left > 0 {
			return update, fmt.Sprintf("%d replicas wait for at most %d to be unavailable at once", left, budget)
		}
		return update, ""
	case "RollingOrdered":
		for _, r := range replicas {
			if !r.exists {
				continue
			}
			if !r.updated {
				update[r.ordinal] = true
				return update, fmt.Sprintf("replica %d is being updated", r.ordinal)
			}
			if !r.ready {
				return update, fmt.Sprintf("waiting for replica %d to become Ready", r.ordinal)
			}
		}
		return update, ""
	default: // Parallel
		for _, r := range outdated {
			update[r.ordinal] = true
		}
		return update, ""
	}
}

func maxUnavailable(strategy UpdateStrategy, replicas int) int {
	if strategy.MaxUnavailable == nil {
		return 1
	}
	n := strategy.MaxUnavailable.IntValue()
	if strategy.MaxUnavailable.Type == intstr.String { // a percentage, rounded down
		pct, _ := strconv.Atoi(regexp.MustCompile(`^\d+`).FindString(strategy.MaxUnavailable.StrVal))
		n = pct * replicas / 100
	}
	return max(1, n)
}

type event struct{ kind, reason, message string }

// desiredStatus is the status functions/workloads writes, and the Events a change records.
func desiredStatus(set *SpicepodSet, replicas int32, w workload) (SpicepodSetStatus, []event) {
	generation := set.Generation
	paused := replicas == 0
	rolling := replicas > 0 && w.updatedReady < replicas
	strategy := set.Spec.strategy().Type
	var next []metav1.Condition
	switch {
	case paused:
		next = append(next, metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Paused", Message: "replicas is 0"})
	case rolling:
		next = append(next, metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "RolloutInProgress", Message: fmt.Sprintf("%d/%d replicas updated and Ready", w.updatedReady, replicas)})
	default:
		next = append(next, metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "AllReplicasReady", Message: fmt.Sprintf("%d/%d replicas Ready", replicas, replicas)})
	}
	if rolling {
		waiting := w.waiting
		if waiting == "" {
			waiting = "in progress"
		}
		next = append(next, metav1.Condition{Type: "Progressing", Status: metav1.ConditionTrue, Reason: "RollingUpdate", Message: strategy + ": " + waiting})
	} else {
		next = append(next, metav1.Condition{Type: "Progressing", Status: metav1.ConditionFalse, Reason: "RolloutComplete", Message: fmt.Sprintf("revision %s is rolled out", w.revision)})
	}
	if paused {
		next = append(next, metav1.Condition{Type: "Paused", Status: metav1.ConditionTrue, Reason: "ScaledToZero", Message: "replicas is 0; supporting objects are kept"})
	} else {
		next = append(next, metav1.Condition{Type: "Paused", Status: metav1.ConditionFalse, Reason: "Running", Message: "the workload is running"})
	}

	status := SpicepodSetStatus{
		Replicas:           fmt.Sprintf("%d/%d", w.ready, set.Spec.replicas()),
		ReadyReplicas:      w.ready,
		TotalReplicas:      set.Spec.replicas(),
		Role:               "<none>",
		Selector:           labelApp + "=" + set.Name,
		ObservedGeneration: generation,
	}
	if paused {
		status.PauseReason = "ScaledToZero"
	}
	// meta.SetStatusCondition keeps lastTransitionTime unless the status changes.
	conditions := make([]metav1.Condition, 0, len(next))
	for _, c := range set.Status.Conditions {
		conditions = append(conditions, *c.DeepCopy())
	}
	var events []event
	for _, n := range next {
		before := meta.FindStatusCondition(set.Status.Conditions, n.Type)
		n.ObservedGeneration = generation
		meta.SetStatusCondition(&conditions, n)
		if before != nil && before.Status == n.Status && before.Reason == n.Reason {
			continue
		}
		switch {
		case n.Type == "Paused" && n.Status == metav1.ConditionTrue:
			events = append(events, event{corev1.EventTypeNormal, "Paused", n.Message})
		case n.Type == "Progressing" && n.Status == metav1.ConditionTrue:
			events = append(events, event{corev1.EventTypeNormal, "RollingUpdate", fmt.Sprintf("rolling out revision %s (%s)", w.revision, strategy)})
		case n.Type == "Ready" && n.Status == metav1.ConditionTrue && before != nil:
			events = append(events, event{corev1.EventTypeNormal, "Ready", n.Message})
		}
	}
	status.Conditions = conditions
	return status, events
}

// SetupWithManager: For the parent, Owns every child kind, and the pods by their app label.
func (r *SpicepodSetReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	ctx := context.Background()
	if err := mgr.GetFieldIndexer().IndexField(ctx, &appsv1.StatefulSet{}, ownerIndex, func(o client.Object) []string {
		owner := metav1.GetControllerOf(o)
		if owner == nil || owner.APIVersion != GroupVersion.String() || owner.Kind != "SpicepodSet" {
			return nil
		}
		return []string{string(owner.UID)}
	}); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &corev1.Pod{}, appIndex, func(o client.Object) []string {
		if app, ok := o.GetLabels()[labelApp]; ok {
			return []string{app}
		}
		return nil
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&SpicepodSet{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Owns(&appsv1.Deployment{}).
		Owns(&appsv1.StatefulSet{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			if app, ok := o.GetLabels()[labelApp]; ok {
				return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: app}}}
			}
			return nil
		})).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Named("spicepodset").
		Complete(r)
}
