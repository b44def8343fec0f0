"""The issue logic the conv2d and pooling cores share: input events scattered over the window
positions they fall in, then one pass over the output map (`spikeshift.gen.ir.maps`).

Each spike-list entry carries a flat input index; a ROM built by the generator
(`WindowPlan.window_table`) turns it into the counts ``ny``, ``nx`` of window positions
covering its row and column and the addresses of its first update, so no divider and no
multiplier is involved, and silent or out-of-window positions are never visited.
"""

from amaranth import Mux, Signal
from amaranth.lib import data
from amaranth.lib.memory import Memory

from ...gen.ir.layer import MemoryImage
from ...gen.ir.maps import WindowPlan
from .events import walk_events

__all__ = ["window_layout", "window_image", "WindowIssue"]


def window_layout(plan: WindowPlan) -> data.StructLayout:
    """One window ROM word: the fields of `WindowPlan.window_fields`, the first in the low bits."""
    return data.StructLayout({name: max(1, bits) for name, bits in plan.window_fields.items()})


def _window_words(plan: WindowPlan) -> list[dict]:
    table = plan.window_table
    return [{name: int(values[i]) for name, values in table.items()}
            for i in range(plan.in_size)]


def window_image(plan: WindowPlan) -> MemoryImage:
    """The window ROM's contents, packed as the hardware stores them."""
    layout = window_layout(plan)
    return MemoryImage(geometry=plan.memory("windows"),
                       words=[layout.const(word).as_bits() for word in _window_words(plan)])


class WindowIssue:
    """Issues one operation per cycle: first a *scatter* operation for every (event, chunk,
    window position), then a *fire* operation for every word of the output state.

    Stage 0 (this cycle, combinational addresses): `scatter` with `weight` and `state`
    addresses and `value`, or `fire` with `fire_addr`. Stage 1 (the next cycle, registered,
    when the memories' data arrive): `u_scatter`, `u_fire`, `u_addr` (the state word to
    write back), `u_value`, `u_chunk`, `u_neuron` (the flat output index of lane 0 of a fire
    operation) and `u_last` (the last fire operation). The core updates in stage 1.

    Events enter through a two-stage prefetch (spike-list read, window-ROM read) that holds
    while the current event still has positions, so events follow each other without a gap.
    `warm` keeps an empty timestep as long as the pipeline fill of a non-empty one, so that
    ``cycles = sum of max(chunks * P, 1) + fire_ops + 4`` holds for every timestep.
    """

    def __init__(self, m, plan: WindowPlan, src, in_banks: int, *, go):
        kh, kw = plan.kernel
        sh, sw = plan.stride
        out_w = plan.out_map[2]
        chunks, lanes = plan.chunks, plan.lanes
        weight_step = plan.weight_channel_stride
        per_chunk = plan.fire_ops // chunks
        layout = window_layout(plan)
        m.submodules.windows = rom = Memory(shape=layout, depth=plan.in_size,
                                            init=_window_words(plan))
        rom_rd = rom.read_port()

        take = Signal()
        advance = Signal()
        s1_valid = walk_events(m, src, in_banks, start=go, advance=advance)

        # Stage 2 of the prefetch: the window ROM word of the entry (held while stalled).
        s2_valid, s2_index = Signal(), Signal(plan.in_index_bits)
        s2_value = Signal(plan.in_value.bits)
        m.d.comb += [advance.eq(~s2_valid | take),
                     rom_rd.addr.eq(Mux(advance, src.data.index, s2_index))]
        with m.If(go):
            m.d.sync += s2_valid.eq(0)
        with m.Elif(advance):
            m.d.sync += [s2_valid.eq(s1_valid), s2_index.eq(src.data.index),
                         s2_value.eq(src.data.value)]
        word = rom_rd.data

        # The current event: counters over its chunks and window positions, and addresses.
        active, empty = Signal(), Signal()
        ny, nx = Signal(len(word.ny)), Signal(len(word.nx))
        iy, ix = Signal(len(word.ny)), Signal(len(word.nx))
        chunk = Signal(range(chunks))
        value = Signal(plan.in_value.bits)
        state_depth = plan.fire_ops
        ca, ca_row, ca_ev = (Signal(range(state_depth), name=n) for n in ("ca", "ca_row", "ca_ev"))
        has_weights = weight_step is not None
        if has_weights:
            weight_depth = chunks * plan.in_shape[0] * weight_step
            wa, wa_row, wa_ev = (Signal(range(weight_depth), name=n)
                                 for n in ("wa", "wa_row", "wa_ev"))
        last_x, last_y = ix + 1 == nx, iy + 1 == ny
        finishing = active & (empty | (last_x & last_y & (chunk == chunks - 1)))
        m.d.comb += take.eq(s2_valid & (~active | finishing))

        with m.If(go):
            m.d.sync += active.eq(0)
        with m.Elif(take):
            m.d.sync += [active.eq(1), empty.eq((word.ny == 0) | (word.nx == 0)),
                         ny.eq(word.ny), nx.eq(word.nx), iy.eq(0), ix.eq(0), chunk.eq(0),
                         value.eq(s2_value),
                         ca.eq(word.state), ca_row.eq(word.state), ca_ev.eq(word.state)]
            if has_weights:
                m.d.sync += [wa.eq(word.weight), wa_row.eq(word.weight), wa_ev.eq(word.weight)]
        with m.Elif(finishing):
            m.d.sync += active.eq(0)
        with m.Elif(active):
            with m.If(~last_x):
                m.d.sync += [ix.eq(ix + 1), ca.eq(ca + 1)]
                if has_weights:
                    m.d.sync += wa.eq(wa - sw)
            with m.Elif(~last_y):
                m.d.sync += [ix.eq(0), iy.eq(iy + 1), ca.eq(ca_row + out_w),
                             ca_row.eq(ca_row + out_w)]
                if has_weights:
                    m.d.sync += [wa.eq(wa_row - sh * kw), wa_row.eq(wa_row - sh * kw)]
            with m.Else():
                step = plan.out_positions
                m.d.sync += [ix.eq(0), iy.eq(0), chunk.eq(chunk + 1), ca.eq(ca_ev + step),
                             ca_row.eq(ca_ev + step), ca_ev.eq(ca_ev + step)]
                if has_weights:
                    chunk_step = plan.in_shape[0] * weight_step
                    m.d.sync += [wa.eq(wa_ev + chunk_step), wa_row.eq(wa_ev + chunk_step),
                                 wa_ev.eq(wa_ev + chunk_step)]

        # Phases: scatter until every event is done, then fire over the output state.
        scattering, firing, started, warm = Signal(), Signal(), Signal(), Signal()
        fire_addr = Signal(range(state_depth))
        fire_chunk = Signal(range(chunks))
        fire_pos = Signal(range(per_chunk))
        fire_neuron = Signal(range(plan.size + lanes * per_chunk))
        scatter_done = scattering & warm & ~s1_valid & ~s2_valid & (~active | finishing)
        m.d.sync += [started.eq(go), warm.eq(started | (warm & scattering & ~scatter_done))]
        with m.If(go):
            m.d.sync += scattering.eq(1)
        with m.If(scatter_done):
            m.d.sync += [scattering.eq(0), firing.eq(1), fire_addr.eq(0), fire_chunk.eq(0),
                         fire_pos.eq(0), fire_neuron.eq(0)]
        fire_last = firing & (fire_addr == state_depth - 1)
        with m.If(firing):
            m.d.sync += [fire_addr.eq(fire_addr + 1), fire_pos.eq(fire_pos + 1),
                         fire_neuron.eq(fire_neuron + 1)]
            with m.If(fire_pos == per_chunk - 1):
                m.d.sync += [fire_pos.eq(0), fire_chunk.eq(fire_chunk + 1),
                             fire_neuron.eq(fire_neuron + (lanes - 1) * per_chunk + 1)]
            with m.If(fire_last):
                m.d.sync += firing.eq(0)

        self.scatter = active & ~empty
        self.state = Signal(range(state_depth))
        m.d.comb += self.state.eq(Mux(firing, fire_addr, ca))
        self.weight = wa if has_weights else None
        self.value = value
        self.fire = firing
        self.fire_addr, self.fire_chunk = fire_addr, fire_chunk

        self.u_scatter, self.u_fire, self.u_last = Signal(), Signal(), Signal()
        self.u_addr = Signal.like(self.state)
        self.u_value = Signal(plan.in_value.bits)
        self.u_chunk = Signal.like(fire_chunk)
        self.u_neuron = Signal.like(fire_neuron)
        m.d.sync += [self.u_scatter.eq(self.scatter), self.u_fire.eq(firing),
                     self.u_last.eq(fire_last), self.u_addr.eq(self.state),
                     self.u_value.eq(value), self.u_chunk.eq(fire_chunk),
                     self.u_neuron.eq(fire_neuron)]
