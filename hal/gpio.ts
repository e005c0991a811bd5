/**
 * A GPIO pin as the boards use it. Pins are named by their BCM number; each driver maps that to its own numbering
 * (sysfs: chip base + BCM; character device: chip + offset).
 */
export type GpioEdge = 'rising' | 'falling' | 'both';

export interface GpioInput {
  readonly bcm: number;
  read(): Promise<0 | 1>;
  /** `atMs` is on the injected Clock's timeline: the kernel's timestamp when the driver has one, else arrival. */
  onEdge(cb: (value: 0 | 1, atMs: number) => void): void;
  close(): Promise<void>;
}

export interface GpioOutput {
  readonly bcm: number;
  write(value: 0 | 1): void;
  close(): Promise<void>;
}

export interface GpioDriver {
  readonly kind: 'sysfs' | 'chardev';
  input(bcm: number, opts: { edge: GpioEdge; configKey: string; activeLow?: boolean }): Promise<GpioInput>;
  output(bcm: number, opts: { initial: 0 | 1; configKey: string }): Promise<GpioOutput>;
  close(): Promise<void>;
}

export type GpioDriverName = 'sysfs' | 'chardev' | 'auto';

/**
 * Labels of the Raspberry Pi SoC GPIO controllers (Pi 1-3, Pi 4, Pi 5's RP1 and its early name): BCM numbers are
 * offsets on this chip, whatever number the kernel gave the chip itself.
 */
export const RPI_SOC_GPIO_LABELS: readonly string[] = ['pinctrl-bcm2711', 'pinctrl-bcm2835', 'pinctrl-rp1', 'pinctrl-bcm2712'];
