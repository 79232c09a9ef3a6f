// The lab's ARP table limits (test/lab/network.ts): what a lab of N hosts raises on the machine.
// Linux's defaults are 128 / 512 / 1024; at ~1,000 hosts the hard limit made half of a run's
// connections fail with "No route to host".
import { describe, expect, it } from 'vitest';
import { neighbourLimitsFor } from '../../lab/network.ts';

const LINUX = { gc_thresh1: 128, gc_thresh2: 512, gc_thresh3: 1024 };

describe("the lab's ARP table limits", () => {
  it("changes nothing for the labs of the tests and the bench's 50 hosts", () => {
    expect(neighbourLimitsFor(11, LINUX)).toEqual({});
    expect(neighbourLimitsFor(50, LINUX)).toEqual({});
  });

  it('raises all three for 1,000 hosts, each past the hosts, in the 1:4:8 proportions', () => {
    expect(neighbourLimitsFor(1000, LINUX)).toEqual({ gc_thresh1: 1064, gc_thresh2: 4256, gc_thresh3: 8512 });
  });

  it('raises only what is short, and never lowers a limit', () => {
    expect(neighbourLimitsFor(200, LINUX)).toEqual({ gc_thresh1: 264, gc_thresh2: 1056, gc_thresh3: 2112 });
    expect(neighbourLimitsFor(100, LINUX)).toEqual({ gc_thresh1: 164, gc_thresh2: 656, gc_thresh3: 1312 });
    const raised = { gc_thresh1: 5000, gc_thresh2: 600, gc_thresh3: 100_000 };
    expect(neighbourLimitsFor(1000, raised)).toEqual({ gc_thresh2: 4256 });
  });
});
