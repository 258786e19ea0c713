# The pod sandbox image: Kubernetes' pause.c (build/pause/linux in the k8s.io/kubernetes module),
# built static here, as a non-root user like the upstream image.
FROM scratch
COPY --chmod=0755 pause /pause
LABEL signpost.component=true
USER 65535:65535
ENTRYPOINT ["/pause"]
