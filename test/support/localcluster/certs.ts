// Makes the PKI a control plane needs with the openssl binary: a CA, the API server's serving
// certificate, client certificates for the admin and each component, and the service-account
// signing key pair. ECDSA P-256 keeps generation fast.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { execa } from "execa";
import { LocalClusterError } from "./cluster-error.ts";

export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

export interface ClusterPki {
  readonly ca: CertPair;
  readonly apiServer: CertPair;
  readonly admin: CertPair;
  readonly controllerManager: CertPair;
  readonly scheduler: CertPair;
  readonly serviceAccountPublicKey: string;
  readonly serviceAccountPrivateKey: string;
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await execa("openssl", args, { stdin: "ignore" });
  } catch (err) {
    throw new LocalClusterError(`openssl ${args[0] ?? ""}`, "certificate generation failed", { cause: err });
  }
}

async function newKey(path: string): Promise<void> {
  await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path]);
}

export interface Subject {
  readonly cn: string;
  readonly o?: string;
  readonly sans?: { readonly ips: readonly string[]; readonly dns: readonly string[] };
  readonly server: boolean;
}

export async function issueCertificate(dir: string, name: string, ca: CertPair, subject: Subject): Promise<CertPair> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  await newKey(key);
  const subj = `/CN=${subject.cn}${subject.o === undefined ? "" : `/O=${subject.o}`}`;
  await openssl(["req", "-new", "-key", key, "-subj", subj, "-out", csr]);
  const lines = [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage=${subject.server ? "serverAuth" : "clientAuth"}`,
  ];
  if (subject.sans !== undefined) {
    const names = [...subject.sans.ips.map((ip) => `IP:${ip}`), ...subject.sans.dns.map((d) => `DNS:${d}`)];
    lines.push(`subjectAltName=${names.join(",")}`);
  }
  await writeFile(ext, lines.join("\n") + "\n");
  await openssl([
    // A random serial per certificate: -CAcreateserial shares one serial file, which races when
    // several certificates are issued at once.
    "x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-set_serial", `0x${randomBytes(16).toString("hex")}`,
    "-days", "365", "-sha256", "-extfile", ext, "-out", cert,
  ]);
  return { cert, key };
}

export interface PkiOptions {
  /** Addresses the API server is reached at: loopback, its advertise address, the first service IP. */
  readonly apiServerIPs: readonly string[];
}

export async function makePki(dir: string, options: PkiOptions): Promise<ClusterPki> {
  const ca: CertPair = { cert: join(dir, "ca.crt"), key: join(dir, "ca.key") };
  await newKey(ca.key);
  await openssl([
    "req", "-x509", "-new", "-key", ca.key, "-subj", "/CN=signpost-local-ca", "-days", "365",
    "-sha256", "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature", "-out", ca.cert,
  ]);
  const dns = [
    "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
  ];
  const [apiServer, admin, controllerManager, scheduler] = await Promise.all([
    issueCertificate(dir, "apiserver", ca, { cn: "kube-apiserver", sans: { ips: options.apiServerIPs, dns }, server: true }),
    issueCertificate(dir, "admin", ca, { cn: "signpost-admin", o: "system:masters", server: false }),
    issueCertificate(dir, "controller-manager", ca, { cn: "system:kube-controller-manager", server: false }),
    issueCertificate(dir, "scheduler", ca, { cn: "system:kube-scheduler", server: false }),
  ]);
  const sa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const serviceAccountPublicKey = join(dir, "sa.pub");
  const serviceAccountPrivateKey = join(dir, "sa.key");
  await writeFile(serviceAccountPublicKey, sa.publicKey.export({ type: "spki", format: "pem" }));
  await writeFile(serviceAccountPrivateKey, sa.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  return { ca, apiServer, admin, controllerManager, scheduler, serviceAccountPublicKey, serviceAccountPrivateKey };
}
