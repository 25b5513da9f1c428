// Every command the CLI knows, in the order `--help` lists them.
import type { Command } from '../command.js';
import { applyCommands } from './apply.js';
import { autoUpdate } from './auto-update.js';
import { containerCommands } from './containers.js';
import { healthcheck } from './healthcheck.js';
import { images } from './images.js';
import { login, logout } from './login.js';
import { mount, umount } from './mount.js';
import { pull } from './pull.js';
import { push } from './push.js';
import { run } from './run.js';
import { trustCommands } from './trust.js';
import { serve } from './serve.js';
import { tokenCommands } from './tokens.js';

export const commands: Command[] = [pull, push, ...images, ...containerCommands, healthcheck, autoUpdate, ...applyCommands, run, mount, umount, login, logout, serve, ...tokenCommands, ...trustCommands];
