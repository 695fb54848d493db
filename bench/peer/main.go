// spicepodset-peer: the SpicepodSet operator a Go team would write instead of ours, on
// controller-runtime, as the kubebuilder scaffold's cmd/main.go sets it up: a manager with
// the default cache, leader election, health probes, optional metrics, one controller.
// The benchmark (bench/scale.ts) runs it side by side with ours; the equivalence test
// (test/integration/peer-equivalence.test.ts) checks that both write the same objects.
package main

import (
	"flag"
	"net"
	"net/http"
	_ "net/http/pprof" // served only with --pprof-bind-address
	"os"
	"runtime/pprof"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(addKnownTypes(scheme))
}

func main() {
	var metricsAddr, probeAddr, namespaces, leaderNamespace string
	var cpuProfile, pprofAddr string
	var leaderElect bool
	var workers int
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	flag.BoolVar(&leaderElect, "leader-elect", true, "Enable leader election (a Lease).")
	flag.StringVar(&leaderNamespace, "leader-election-namespace", "default", "Namespace of the leader election Lease.")
	flag.StringVar(&namespaces, "namespaces", "", "Namespaces to watch, comma-separated (default: all).")
	flag.IntVar(&workers, "max-concurrent-reconciles", 1, "SpicepodSets reconciled at once.")
	// Not in the scaffold: for bench/scale.ts --profile, the breakdown of where the time and memory go.
	flag.StringVar(&cpuProfile, "cpu-profile", "", "Write a CPU profile of the whole run to this file.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "", "Serve net/http/pprof on this address.")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		utilruntime.Must(err)
		utilruntime.Must(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	if pprofAddr != "" {
		listener, err := net.Listen("tcp", pprofAddr)
		utilruntime.Must(err)
		log.Info("serving pprof", "address", listener.Addr().String())
		go func() { _ = http.Serve(listener, nil) }()
	}

	cacheOptions := cache.Options{}
	if namespaces != "" {
		cacheOptions.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range strings.Split(namespaces, ",") {
			cacheOptions.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	config := ctrl.GetConfigOrDie()
	config.UserAgent = "spicepodset-peer"
	mgr, err := ctrl.NewManager(config, ctrl.Options{
		Scheme:                  scheme,
		Cache:                   cacheOptions,
		Metrics:                 metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress:  probeAddr,
		LeaderElection:          leaderElect,
		LeaderElectionID:        "spicepodset-peer.spice.ai",
		LeaderElectionNamespace: leaderNamespace,
	})
	if err != nil {
		log.Error(err, "unable to start manager")
		os.Exit(1)
	}
	reconciler := &SpicepodSetReconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Recorder: mgr.GetEventRecorderFor("spiceai-operator")}
	if err := reconciler.SetupWithManager(mgr, workers); err != nil {
		log.Error(err, "unable to create controller", "controller", "SpicepodSet")
		os.Exit(1)
	}
	utilruntime.Must(mgr.AddHealthzCheck("healthz", healthz.Ping))
	utilruntime.Must(mgr.AddReadyzCheck("readyz", healthz.Ping))
	log.Info("starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "problem running manager")
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}
