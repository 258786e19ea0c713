# Sourced by the scripts that build Kubernetes commands from the Go module proxy: the version
# ldflags the Kubernetes release build sets, without which `kubectl version` and kubeadm print
# a placeholder (and kubeadm picks its default image tags from it).
# k8s_version_ldflags VERSION  prints the -ldflags value for vMAJOR.MINOR.PATCH.
k8s_version_ldflags() {
  local version=$1 major minor pkg ld="-s -w"
  major=$(echo "$version" | sed 's/^v\([0-9]*\)\..*/\1/')
  minor=$(echo "$version" | sed 's/^v[0-9]*\.\([0-9]*\)\..*/\1/')
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$ld"
}
