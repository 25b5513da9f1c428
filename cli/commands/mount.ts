// `mount IMAGE|NAME DIR` and `umount DIR`, as atomic's: a rootfs shown read-only for inspection.
import { mountImage, SyscontainerError, unmountImage } from '../../app/index.js';
import { onlyArgument } from '../arguments.js';
import type { Command } from '../command.js';

export const mount: Command = {
  name: ['mount'],
  summary: "mount an image's or an installed container's rootfs read-only at DIR, for inspection",
  usage: '(IMAGE | NAME) DIR',
  async run({ app, out, args }) {
    const [target, dir, ...extra] = args;
    if (target === undefined || dir === undefined || extra.length > 0) throw new SyscontainerError('EUSAGE', 'mount takes an IMAGE or container NAME and a DIR');
    const mounted = await mountImage(app, { target, dir });
    out.result(`mounted ${mounted.kind} ${mounted.target} read-only at ${mounted.mountPoint}`);
  },
};

export const umount: Command = {
  name: ['umount'],
  summary: 'unmount what mount put at DIR',
  usage: 'DIR',
  async run({ app, out, args }) {
    out.result(`unmounted ${await unmountImage(app, { dir: onlyArgument(args, 'umount', 'DIR') })}`);
  },
};
