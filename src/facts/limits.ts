// How long the toolkit waits for a host's facts, and the longest --zypper-lock-timeout that
// wait allows: one place for the CLI's check and the run's timer.
import { MAX_TIMER_SECONDS } from '../exec/connection.ts';

/**
 * The facts' round trip reads and changes nothing, yet every host's plan (and so wave 1) waits
 * for it: a host that hangs there (systemctl on a wedged D-Bus, stat on a dead NFS mount) is given
 * up on well before --remote-timeout, which is sized for installs, after this plus twice
 * --zypper-lock-timeout (its zypper calls may each wait that long for the package lock, then
 * refresh their repositories).
 */
export const FACTS_BASE_WAIT_SECONDS = 300;

/** The longest --zypper-lock-timeout: the facts' wait made of it stays a timer Node honours. */
export const MAX_ZYPP_LOCK_TIMEOUT_SECONDS = (MAX_TIMER_SECONDS - FACTS_BASE_WAIT_SECONDS) / 2;
