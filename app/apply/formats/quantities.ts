// Memory and CPU amounts as Kubernetes (`128Mi`, `500m`) and docker/paunch (`512m`, `1g`) write
// them, turned into bytes and thousandths of a CPU. Pure.

const kubeMemoryUnits: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Bytes of a Kubernetes memory quantity (`128Mi`, `1G`, `1e9`, `1000`); undefined when it is not one. */
export function kubeMemoryBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? Math.ceil(value) : undefined;
  const match = /^(\d+(?:\.\d+)?(?:[eE]\d+)?)([kMGTPE]i?)?$/.exec(value.trim());
  if (match === null) return undefined;
  const unit = kubeMemoryUnits[match[2] ?? ''];
  if (unit === undefined) return undefined;
  const bytes = Math.ceil(Number(match[1]) * unit);
  return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
}

/** Thousandths of a CPU of a Kubernetes cpu quantity (`500m`, `1`, `0.25`); undefined when it is not one. */
export function kubeCpuMillis(value: string | number): number | undefined {
  const text = String(value).trim();
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(text);
  if (match === null) return undefined;
  const millis = match[2] === 'm' ? Number(match[1]) : Number(match[1]) * 1000;
  const rounded = Math.ceil(millis);
  return rounded > 0 ? rounded : undefined;
}

/** Bytes of a docker-style size (`512m`, `1g`, `1024k`, `1048576b`, bytes): what paunch's mem_limit takes. */
export function dockerBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(value.trim());
  if (match === null) return undefined;
  const units: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
  const bytes = Math.ceil(Number(match[1]) * (units[(match[2] ?? '').toLowerCase()] ?? 1));
  return bytes > 0 ? bytes : undefined;
}

/** Bytes as the shortest exact Kubernetes quantity: 134217728 → `128Mi`. */
export function formatKubeBytes(bytes: number): string {
  for (const [unit, size] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** Millicores as a Kubernetes quantity: 1000 → `1`, 500 → `500m`. */
export function formatKubeCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}
