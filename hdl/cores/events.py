"""Walking a timestep's input spike list, one entry after another (the map and flatten cores)."""

from dataclasses import dataclass

from amaranth import Array, Cat, Const, Mux, Signal, Value
from amaranth.lib.wiring import Out

from ..layouts import spike_entry_layout
from ..result_buffer import result_write_signature
from ..spike_buffer import spike_read_signature, spike_write_signature

__all__ = ["lowest_set", "BankWalk", "bank_walk", "meeting", "walk_events",
           "event_core_members"]


def event_core_members(plan, in_banks: int, in_depth: int, result=None) -> dict:
    """The members of a core that reads one spike list and writes the next: `i_spikes`,
    `o_spikes` (``plan.out_banks`` banks of ``plan.out_depth`` entries) or, as the last layer
    (`result`: the result format), `o_result` (``plan.out_depth`` words of
    ``plan.out_banks`` values), `busy`, `done`."""
    members = {
        "i_spikes": Out(spike_read_signature(
            in_banks, in_depth, spike_entry_layout(plan.in_index_bits, plan.in_value.bits),
            plan.entries_per_cycle)),
        "busy": Out(1),
        "done": Out(1),
    }
    if result is None:
        members["o_spikes"] = Out(spike_write_signature(
            plan.out_banks, plan.out_depth,
            spike_entry_layout(plan.out_index_bits, plan.spike.bits)))
    else:
        members["o_result"] = Out(result_write_signature(plan.out_banks, plan.out_depth, result))
    return members


def lowest_set(m, mask, width: int, name: str):
    """(index, found): the lowest set bit of `mask` (combinational priority encoder)."""
    index = Signal(range(width), name=f"{name}_index")
    found = Signal(name=f"{name}_found")
    for i in reversed(range(width)):
        with m.If(mask[i]):
            m.d.comb += [index.eq(i), found.eq(1)]
    return index, found


@dataclass(frozen=True)
class BankWalk:
    """A walk over a spike list's entries, bank after bank (lowest first), kept in registers.

    The begin values are registers of the counts, one cycle behind them: `begin` takes effect
    one cycle after the counts settle (a core spends its start cycle on it), so that no
    search over the counts lies between the spike buffer and the walk's registers.

    Members
    -------
    any : the list has an entry (a register of the counts, one cycle behind)
    bank, entry : the position of the current entry: its bank one-hot (bit b for bank b, as
        the spike buffers take it), its entry binary (decoded from one-hot registers)
    more : another entry follows the current one (a function of registers only)
    begin, advance : statements (sync) that move to the first entry, and to the next one
    current, rest : the walk's one-hot current and its still-to-visit set, bit i for the
        position (one bit per entry) or bank (per bank) i in ascending order, whichever the
        direction (`meeting`)
    left : per bank, the current bank's entries still to visit (None: one bit per entry)
    """

    any: Value
    bank: Value
    entry: Value
    more: Value
    begin: list
    advance: list
    current: Value
    rest: Value
    left: Value | None


#: A lowest-bit search over more bits than this is split into groups of this many: the lowest
#: non-empty group and each group's lowest bit are found side by side, two short carry chains
#: instead of one long one (a 128-bit chain limited a 16-lane MNIST design to 98 MHz on ECP5).
LOWEST_GROUP_BITS = 16


#: A lowest-bit search over at most this many bits is a prefix OR in LUTs: a carry chain that
#: short gains nothing and is placed apart from its inputs (two long routes on ECP5).
LOWEST_LUT_BITS = 8


def _groups(bits, width: int) -> list:
    """`bits` split into `LOWEST_GROUP_BITS`-bit groups, lowest first."""
    return [bits[start:min(start + LOWEST_GROUP_BITS, width)]
            for start in range(0, width, LOWEST_GROUP_BITS)]


def _lowest_one_hot(mask, width: int):
    """The lowest set bit of `mask` alone (``x & -x``): carry chains, or a prefix OR over a
    few bits, not a priority tree."""
    if width <= LOWEST_LUT_BITS:
        return Cat(mask[0], *(mask[i] & ~mask[:i].any() for i in range(1, width)))
    if width <= LOWEST_GROUP_BITS:
        return (mask & ~(mask - 1))[:width]
    nonempty = Cat(*(group.any() for group in _groups(mask, width)))
    return _lowest_in_groups(mask, _lowest_one_hot(nonempty, len(nonempty)), width)


def _lowest_in_groups(mask, lowest_group, width: int):
    """The lowest set bit of `mask`, given `lowest_group` (one-hot: its lowest non-empty
    group of `LOWEST_GROUP_BITS`): each group's lowest bit, kept in that group alone."""
    return Cat(*(_lowest_one_hot(group, len(group)) & lowest_group[n].replicate(len(group))
                 for n, group in enumerate(_groups(mask, width))))


def _two_or_more(bits):
    """At least two bits of `bits` are set."""
    return (bits & (bits - 1)).any() if len(bits) > 1 else bits[0] & 0


#: A walk over more banks than `POSITION_WALK_BANKS` and at most `POSITION_WALK_BITS` positions
#: (banks x depth) keeps one bit per position, so that the next entry is one carry chain away;
#: any other keeps one bit per bank and counts the current bank's entries, whose count is then
#: looked up over the banks in the same cycle (slow over many banks; a long carry chain is
#: slower, on the iCE40 above all).
POSITION_WALK_BANKS = 4
POSITION_WALK_BITS = 128


def _ascending(bits, width: int, descending: bool):
    """`bits` of a walk's register in ascending order of the positions (or banks)."""
    return Cat(*(bits[width - 1 - i] for i in range(width))) if descending else bits


def meeting(up: BankWalk, down: BankWalk):
    """(pair, more) of two walks over one list, `up` ascending and `down` descending, each at
    an entry: `pair` when `down`'s entry lies after `up`'s (two distinct entries), `more` when
    an entry lies between them (another operation follows this one). Functions of their
    registers only."""
    between = (up.rest & down.rest).any()           # positions, or banks, strictly between
    if up.left is None:
        return (up.rest & down.current).any(), between
    same_bank = (up.current & down.current).any()
    bank_after = (up.rest & down.current).any()
    # per bank, `down`'s entry index is its count of entries left (below it)
    pair = bank_after | same_bank & (up.entry < down.entry)
    more = (same_bank & (down.entry >= up.entry + 2)
            | bank_after & ((up.left != 0) | (down.left != 0) | between))
    return pair, more


def _decoded(m, one_hot, width: int, value_of, shape, name: str):
    """The value ``value_of(i)`` of the set bit i of `one_hot` (an OR per result bit)."""
    result = Signal(shape, name=name)
    m.d.comb += result.eq(Cat(*(
        Cat(*(one_hot[i] for i in range(width) if value_of(i) >> bit & 1)).any()
        for bit in range(len(result)))))
    return result


def _first_bank(m, counts, banks: int, name: str):
    """(non-empty banks, the lowest of them alone) of a list with `counts`."""
    nonempty = Signal(banks, name=f"{name}_nonempty")
    first = Signal(banks, name=f"{name}_first_bank")
    m.d.comb += [nonempty.eq(Cat(*(count != 0 for count in counts))),
                 first.eq(_lowest_one_hot(nonempty, banks))]
    return nonempty, first


def bank_walk(m, counts, banks: int, depth: int, name: str, *,
              descending: bool = False) -> BankWalk:
    """A `BankWalk` over the spike list whose per-bank entry `counts` are given (constant while
    it is walked), without a priority encoder in the loop: a register holds what is still to
    visit, and the next position is its lowest set bit (``x & -x``, a carry chain). Small
    lists over many banks keep one bit per entry, the others one bit per bank and the current
    bank's entries left in a counter (`POSITION_WALK_BANKS`). `descending` walks from the last
    entry of the highest bank down (a paired core's second walk, which meets the first)."""
    if POSITION_WALK_BANKS < banks and banks * depth <= POSITION_WALK_BITS:
        return _position_walk(m, counts, banks, depth, name, descending)
    return _bank_count_walk(m, counts, banks, depth, name, descending)


def _prepared(m, values: dict, name: str) -> dict:
    """Registers holding `values` (functions of a list's counts) one cycle behind them."""
    registers = {}
    for key, value in values.items():
        registers[key] = Signal(len(value), name=f"{name}_begin_{key}")
        m.d.sync += registers[key].eq(value)
    return registers


def _next_position(m, rest, groups, width: int, name: str):
    """(position, rest after it, its groups) of a walk whose still-to-visit positions are
    `rest`, with one bit per group of `LOWEST_GROUP_BITS` in `groups` (the group has one): the
    next position is the lowest group's lowest bit, a few LUTs over the group bits beside each
    group's own carry chain, not a search over all the groups' bits first."""
    position = Signal(width, name=f"{name}_position")
    lowest_group = Signal(len(groups), name=f"{name}_group")
    m.d.comb += lowest_group.eq(_lowest_one_hot(groups, len(groups)))
    m.d.comb += position.eq(_lowest_in_groups(rest, lowest_group, width))
    return (position, rest & ~position,
            Cat(*(Mux(lowest_group[n], _two_or_more(part), groups[n])
                  for n, part in enumerate(_groups(rest, width)))))


def _position_walk(m, counts, banks: int, depth: int, name: str, descending: bool) -> BankWalk:
    """Bit p of the walk's registers is position ``order[p]``, in the walk's order (`rest`
    kept with its group bits, `_next_position`): the first entry is the lowest occupied bit,
    entry 0 of the lowest non-empty bank or, descending, the last entry of the highest."""
    width = banks * depth
    order = [(b, e) for b in range(banks) for e in range(depth)]
    if descending:
        order.reverse()
    occupied = Signal(width, name=f"{name}_occupied")
    m.d.comb += occupied.eq(Cat(*(e < counts[b] for b, e in order)))
    current = Signal(width, name=f"{name}_current")        # one-hot
    rest = Signal(width, name=f"{name}_rest")              # positions after the current one
    groups = Signal(len(_groups(rest, width)), name=f"{name}_groups")
    occupied_groups = Signal.like(groups, name=f"{name}_occupied_groups")
    m.d.comb += occupied_groups.eq(Cat(*(part.any() for part in _groups(occupied, width))))
    first, unvisited, unvisited_groups = _next_position(m, occupied, occupied_groups, width,
                                                        f"{name}_first")
    begin = _prepared(m, {"first": first, "rest": unvisited, "groups": unvisited_groups,
                          "any": occupied_groups.any()}, name)
    after, rest_after, groups_after = _next_position(m, rest, groups, width, f"{name}_after")
    return BankWalk(
        any=begin["any"],
        bank=Cat(*(Cat(*(current[p] for p in range(width) if order[p][0] == b)).any()
                   for b in range(banks))),
        entry=_decoded(m, current, width, lambda p: order[p][1], range(depth),
                       f"{name}_entry"),
        more=groups.any(),
        begin=[current.eq(begin["first"]), rest.eq(begin["rest"]),
               groups.eq(begin["groups"])],
        advance=[current.eq(after), rest.eq(rest_after), groups.eq(groups_after)],
        current=_ascending(current, width, descending),
        rest=_ascending(rest, width, descending), left=None)


def _bank_count_walk(m, counts, banks: int, depth: int, name: str,
                     descending: bool) -> BankWalk:
    """Descending, the banks are taken highest first and `left` (the entries below the current
    one) is the current entry."""
    bank_of = (lambda b: banks - 1 - b) if descending else (lambda b: b)
    counts = [counts[bank_of(b)] for b in range(banks)]
    nonempty, first = _first_bank(m, counts, banks, name)
    current = Signal(banks, name=f"{name}_current")        # one-hot
    rest = Signal(banks, name=f"{name}_rest")              # banks after the current one
    left = Signal(range(depth + 1), name=f"{name}_left")   # its entries after the current one
    entry = Signal(range(depth), name=f"{name}_entry")
    after = Signal(banks, name=f"{name}_after")
    m.d.comb += after.eq(_lowest_one_hot(rest, banks))

    def count_of(one_hot):
        total = 0
        for b, count in enumerate(counts):
            total = total | Mux(one_hot[b], count, 0)
        return total

    in_bank = left != 0
    begin = _prepared(m, {"first": first, "rest": nonempty & ~first,
                          "left": count_of(first) - 1, "any": nonempty.any()}, name)
    return BankWalk(
        any=begin["any"],
        bank=_ascending(current, banks, descending),
        entry=left[:len(entry)] if descending else entry, more=in_bank | rest.any(),
        begin=[current.eq(begin["first"]), rest.eq(begin["rest"]), left.eq(begin["left"]),
               entry.eq(0)],
        advance=[current.eq(Mux(in_bank, current, after)),
                 rest.eq(Mux(in_bank, rest, rest & ~after)),
                 left.eq(Mux(in_bank, left - 1, count_of(after) - 1)),
                 entry.eq(Mux(in_bank, entry + 1, 0))],
        current=_ascending(current, banks, descending),
        rest=_ascending(rest, banks, descending), left=left)


def walk_events(m, src, banks: int, *, start, advance, name: str = "walk"):
    """Present the entries of the spike list `src` (a ``spike_read_signature`` port of `banks`
    banks) one by one; returns `valid`: ``src.data`` holds an entry in this cycle.

    `start` (the core's start cycle) points at the first entry, whose data arrives in the next
    cycle; `advance` (combinational) moves on to the next entry at the end of a cycle. The read
    address is driven with the position of the next cycle, so a held entry stays on
    ``src.data`` however long the consumer stalls. After the last entry `valid` stays low until
    the next `start`.
    """
    bank = Signal(range(banks), name=f"{name}_bank")
    entry = Signal(len(src.entry), name=f"{name}_entry")
    valid = Signal(name=f"{name}_valid")
    nonempty = Signal(banks, name=f"{name}_nonempty")
    m.d.comb += nonempty.eq(Cat(*(count != 0 for count in src.counts)))
    first_bank, any_bank = lowest_set(m, nonempty, banks, f"{name}_first")
    after = Signal(banks, name=f"{name}_after")
    m.d.comb += after.eq(nonempty & ~((Const(2, banks + 1) << bank) - 1))
    next_bank, more_banks = lowest_set(m, after, banks, f"{name}_more")
    n_bank, n_entry, n_valid = Signal.like(bank), Signal.like(entry), Signal()
    m.d.comb += [n_bank.eq(bank), n_entry.eq(entry), n_valid.eq(valid)]
    with m.If(start):
        m.d.comb += [n_bank.eq(first_bank), n_entry.eq(0), n_valid.eq(any_bank)]
    with m.Elif(advance & valid):
        with m.If(entry + 1 < Array(src.counts)[bank]):
            m.d.comb += n_entry.eq(entry + 1)
        with m.Elif(more_banks):
            m.d.comb += [n_bank.eq(next_bank), n_entry.eq(0)]
        with m.Else():
            m.d.comb += n_valid.eq(0)
    m.d.sync += [bank.eq(n_bank), entry.eq(n_entry), valid.eq(n_valid)]
    m.d.comb += [src.bank.eq(Const(1, banks) << n_bank), src.entry.eq(n_entry)]
    return valid
