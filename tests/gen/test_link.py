import numpy as np
import pytest

from spikeshift.gen.ir.link import (
    AXI_PORTS,
    AXI_REGISTERS,
    STATUS_COUNTERS,
    LinkError,
    axi_input_words,
    axi_words,
    decode_status,
    encode_events,
    encode_inputs,
    status_frame_bytes,
    status_request,
)


def test_raw_events_encode_as_the_stream_of_the_same_inputs():
    x = np.array([[[0, 3, 0], [0, 0, 0]]])
    events = [(1, 3, 1), (0, 0, 1)]
    assert encode_events(events) == encode_inputs(x)
    np.testing.assert_array_equal(axi_words(events), axi_input_words(x))
    assert axi_words([(70, 5, 1)]).tolist() == [70 | 5 << 16 | 1 << 31]


def test_encoders_refuse_a_field_the_wire_cannot_hold():
    with pytest.raises(ValueError, match=r"^index must be in \[0, 65535\], not 65536$"):
        encode_events([(65536, 0, 1)])
    with pytest.raises(ValueError, match=r"^value must be in \[0, 32767\], not 32768$"):
        axi_words([(0, 32768, 1)])


def test_status_request_is_a_checked_frame_with_the_status_flag():
    frame = status_request()
    assert frame == bytes([0xA5, 0x02, 0, 0, 0, 0, 0xFE])


def test_status_frames_decode_by_counter_name_and_bad_ones_raise():
    body = b"".join(n.to_bytes(4, "little") for n in (1, 0, 7, 65536, 3, 2**32 - 1))
    frame = bytes([0x5C]) + body + bytes([(-sum(body)) & 0xFF])
    assert len(frame) == status_frame_bytes() == 26
    assert decode_status(frame) == dict(zip(STATUS_COUNTERS, (1, 0, 7, 65536, 3, 2**32 - 1)))
    with pytest.raises(LinkError, match=r"^status frame fails its checksum$"):
        decode_status(frame[:-1] + bytes([frame[-1] ^ 1]))
    with pytest.raises(LinkError, match=r"^status frame starts with 0x5a, not 0x5c$"):
        decode_status(bytes([0x5A]) + frame[1:])


def test_axi_registers_are_distinct_words_inside_the_address_space():
    bits = next(width for name, _, width in AXI_PORTS if name == "s_axil_araddr")
    addresses = list(AXI_REGISTERS.values())
    assert len(set(addresses)) == len(addresses)
    assert all(a % 4 == 0 and a < 1 << bits for a in addresses)
    assert AXI_REGISTERS["EXTRA_BEATS"] == 0x20 and AXI_REGISTERS["BAD_VALUES"] == 0x2C
