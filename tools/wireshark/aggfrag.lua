-- SPDX-License-Identifier: GPL-2.0
--
-- aggfrag.lua - Wireshark/tshark dissector for AGGFRAG payloads, the ESP
-- payload of IP-TFS (RFC 9347, ESP next header 144).
--
-- Use:
--
--   tshark -X lua_script:tools/wireshark/aggfrag.lua -r CAPTURE
--
-- or copy it into Wireshark's personal Lua plugin directory
-- (~/.local/lib/wireshark/plugins/). It registers in the "ip.proto"
-- table for protocol 144, which the ESP dissector consults for the next
-- header of a payload it could open: ESP with NULL encryption, or
-- decrypted ESP when the SA's keys are given. For the AES-GCM SAs of
-- `xtfs state add ... aead 'rfc4106(gcm(aes))' KEY 128`, the key (40 hex
-- digits, the salt included) goes on the command line:
--
--   tshark -X lua_script:aggfrag.lua -r CAPTURE \
--     -o esp.enable_encryption_decode:TRUE \
--     -o 'uat:esp_sa:"IPv4","192.0.2.1","192.0.2.2","0x00000100",
--         "AES-GCM with 16 octet ICV [RFC4106]","0x0102...14","NULL",""'
--
-- (one argument; an ESP-NULL SA takes "NULL" as the encryption and an
-- empty key, and "*" matches any address; Wireshark's heuristic for
-- ESP-NULL without an entry, esp.enable_null_encryption_decode_heuristic,
-- expects an ICV of 12 to 32 octets). Run tshark as a user:
-- Wireshark runs no Lua script named on its command line as root, and
-- says nothing about it.
--
-- What it shows: the sub-type 0 and sub-type 1 (congestion control)
-- headers, each data block (IPv4 or IPv6 inner packet, pad), and each
-- inner packet dissected by the "ip"/"ipv6" dissectors, so that tshark
-- lists the inner UDP, ICMP... Inner packets split across ESP packets
-- are put together again: Wireshark's reassembly API is not open to Lua
-- (and its TCP-only desegmentation does not apply), so the script keeps
-- its own state per SA (outer addresses and SPI): the packet in progress
-- and the sequence number its next part must come in. The state is built
-- on the first pass over the capture, in capture order, and what each
-- frame showed is kept for later passes (Wireshark's GUI, tshark -2).
-- As in the RFC, the parts of a packet must come in consecutive
-- sequence numbers, all-pad and empty payloads in between allowed; a
-- missing or out-of-order sequence number ends the packet in progress
-- (a receiver's reorder window is not modelled). With tshark -2 the
-- frame with the first part also says in which frame the packet was
-- completed.
--
-- Fields (for display filters and tshark -T fields): aggfrag.subtype,
-- aggfrag.block_offset, aggfrag.flags.p/e, aggfrag.loss_event_rate,
-- aggfrag.rtt, aggfrag.echo_delay, aggfrag.transmit_delay, aggfrag.tval,
-- aggfrag.techo, aggfrag.block.type, aggfrag.block.length, aggfrag.pad,
-- aggfrag.inner_count (inner packets shown in this frame, whole ones and
-- those completed here), aggfrag.fragment.part (first, middle, last,
-- orphan), aggfrag.fragment.frames, aggfrag.reassembled_in,
-- aggfrag.reassembled.length; expert infos aggfrag.malformed,
-- aggfrag.lost (a packet in progress given up), aggfrag.orphan (the end
-- of a packet whose start was not seen), aggfrag.subtype.unknown.
--
-- Not done: Diet-ESP's compressed ESP header (draft-ietf-ipsecme-diet-esp;
-- such packets are not ESP to Wireshark), and implicit-IV SAs (RFC 8750),
-- which Wireshark 4.4 cannot decrypt.

local aggfrag = Proto("aggfrag", "AGGFRAG payload (IP-TFS, RFC 9347)")

local subtypes = { [0] = "Non-congestion-control", [1] = "Congestion control" }
local block_types = { [0] = "Pad", [4] = "IPv4", [6] = "IPv6" }
local parts = { [1] = "first", [2] = "middle", [3] = "last", [4] = "orphan" }
local PART_FIRST, PART_MIDDLE, PART_LAST, PART_ORPHAN = 1, 2, 3, 4

local f = {
	subtype = ProtoField.uint8("aggfrag.subtype", "Sub-type", base.DEC, subtypes),
	reserved = ProtoField.uint8("aggfrag.reserved", "Reserved", base.HEX),
	cc_reserved = ProtoField.uint8("aggfrag.cc_reserved", "Reserved", base.HEX, nil, 0xfc),
	flag_p = ProtoField.bool("aggfrag.flags.p", "P (PLMTUD probing)", 8, nil, 0x02),
	flag_e = ProtoField.bool("aggfrag.flags.e", "E (ECN CE in the loss event rate)", 8, nil, 0x01),
	block_offset = ProtoField.uint16("aggfrag.block_offset", "BlockOffset", base.DEC),
	loss_event_rate = ProtoField.uint32("aggfrag.loss_event_rate", "LossEventRate", base.DEC),
	rtt = ProtoField.uint32("aggfrag.rtt", "RTT (us)", base.DEC),
	echo_delay = ProtoField.uint32("aggfrag.echo_delay", "Echo Delay (us)", base.DEC),
	transmit_delay = ProtoField.uint32("aggfrag.transmit_delay", "Transmit Delay (us)", base.DEC),
	tval = ProtoField.uint32("aggfrag.tval", "TVal", base.HEX),
	techo = ProtoField.uint32("aggfrag.techo", "TEcho", base.HEX),
	block = ProtoField.bytes("aggfrag.block", "Data block"),
	block_type = ProtoField.uint8("aggfrag.block.type", "Type", base.DEC, block_types, 0xf0),
	block_length = ProtoField.uint32("aggfrag.block.length", "Inner packet length", base.DEC),
	pad = ProtoField.bytes("aggfrag.pad", "Pad data block"),
	inner_count = ProtoField.uint32("aggfrag.inner_count", "Inner packets shown", base.DEC),
	fragment = ProtoField.bytes("aggfrag.fragment", "Fragment"),
	fragment_part = ProtoField.uint8("aggfrag.fragment.part", "Part", base.DEC, parts),
	fragment_offset = ProtoField.uint32("aggfrag.fragment.offset", "Offset in the inner packet", base.DEC),
	fragment_frames = ProtoField.framenum("aggfrag.fragment.frames", "Part of the inner packet in frame", base.NONE),
	reassembled_in = ProtoField.framenum("aggfrag.reassembled_in", "Inner packet completed in frame", base.NONE),
	reassembled_length = ProtoField.uint32("aggfrag.reassembled.length", "Reassembled inner packet length", base.DEC),
}
aggfrag.fields = {
	f.subtype, f.reserved, f.cc_reserved, f.flag_p, f.flag_e, f.block_offset,
	f.loss_event_rate, f.rtt, f.echo_delay, f.transmit_delay, f.tval, f.techo,
	f.block, f.block_type, f.block_length, f.pad, f.inner_count, f.fragment,
	f.fragment_part, f.fragment_offset, f.fragment_frames, f.reassembled_in,
	f.reassembled_length,
}

local ei = {
	malformed = ProtoExpert.new("aggfrag.malformed", "Malformed AGGFRAG payload",
		expert.group.MALFORMED, expert.severity.ERROR),
	lost = ProtoExpert.new("aggfrag.lost", "Inner packet in progress given up",
		expert.group.SEQUENCE, expert.severity.WARN),
	orphan = ProtoExpert.new("aggfrag.orphan", "Continuation of an inner packet whose start was not seen",
		expert.group.SEQUENCE, expert.severity.NOTE),
	subtype = ProtoExpert.new("aggfrag.subtype.unknown", "Unknown AGGFRAG sub-type",
		expert.group.UNDECODED, expert.severity.WARN),
}
aggfrag.experts = { ei.malformed, ei.lost, ei.orphan, ei.subtype }

local esp_spi = Field.new("esp.spi")
local esp_seq = Field.new("esp.sequence")
local ip_dissector = Dissector.get("ip")
local ipv6_dissector = Dissector.get("ipv6")

-- Per SA: { cur = packet in progress or nil, expect = next sequence
-- number }. A packet: { data = ByteArray, total = length or nil,
-- frames = { frame numbers }, done_in = frame or nil }.
local flows = {}
-- Per frame (first pass): what its payload held, see plan_payload.
local frame_plans = {}

function aggfrag.init()
	flows = {}
	frame_plans = {}
end

-- last - the last value of a field extractor in this frame so far (the
-- innermost ESP header when ESP is nested), or nil.
local function last(field)
	local v = { field() }
	if #v == 0 then
		return nil
	end
	return v[#v].value
end

-- ip_length - the length an IP header (version 4 or 6) in ByteArray BA
-- at offset OFF gives, or nil when too little of it is there; false for
-- a length that cannot be.
local function ip_length(ba, off)
	local n = ba:len() - off
	local v = math.floor(ba:get_index(off) / 16)
	if v == 4 then
		if n < 4 then
			return nil
		end
		local t = ba:get_index(off + 2) * 256 + ba:get_index(off + 3)
		if t < 20 then
			return false
		end
		return t
	elseif v == 6 then
		if n < 6 then
			return nil
		end
		return 40 + ba:get_index(off + 4) * 256 + ba:get_index(off + 5)
	end
	return false
end

-- plan_payload - on the first pass, what the data blocks of this frame
-- hold, given the SA's state, which it updates. Returns a list of
-- entries { kind, off, len, ... } over the DataBlocks data (DATA, a
-- ByteArray, and offsets into it):
--   "inner"  a whole inner packet
--   "part"   part of a packet spanning ESP packets (pkt, part, at)
--   "pad"    a pad data block
--   "lost"   the packet in progress given up (pkt, why); no octets
--   "bad"    a malformed block (why); the rest is not parsed
local function plan_payload(flow, seq, offset, data, frame)
	local plan = {}
	local len = data:len()
	local cur = flow.cur

	local function give_up(why)
		plan[#plan + 1] = { kind = "lost", off = 0, len = 0, pkt = cur, why = why }
		cur = nil
	end

	if cur and seq ~= flow.expect then
		give_up(string.format("sequence number %u, its next part was due in %u", seq, flow.expect))
	end
	local all_pad = offset == 0 and (len == 0 or data:get_index(0) < 16)
	if cur and all_pad then
		-- All-pad or empty payload between two parts (RFC 9347 2.2.3).
		flow.expect = seq + 1
	elseif cur and offset == 0 then
		give_up("BlockOffset 0 in the payload that was to continue it")
	end

	if offset > 0 then
		local n = math.min(offset, len)
		local have = cur and cur.data:len()
		local total = cur and cur.total
		if cur and total == nil then
			-- The part before ended inside the IP header: its length may
			-- be known with this part's first octets.
			local head = ByteArray.new()
			head:append(cur.data)
			head:append(data:subset(0, math.min(n, 6)))
			total = ip_length(head, 0)
		end
		if total == false then
			give_up("its first octets are not an IPv4 or IPv6 header")
		elseif total and have + offset ~= total then
			give_up(string.format("BlockOffset %u, but %u octets of it remained",
				offset, total - have))
		end
		if cur then
			cur.data:append(data:subset(0, n))
			cur.frames[#cur.frames + 1] = frame
			-- BlockOffset counts what remains, whatever is known.
			cur.total = have + offset
			local entry = { kind = "part", off = 0, len = n, pkt = cur, at = have }
			plan[#plan + 1] = entry
			if offset <= len then
				entry.part = PART_LAST
				cur.done_in = frame
				cur = nil
			else
				entry.part = PART_MIDDLE
				flow.expect = seq + 1
			end
		else
			plan[#plan + 1] = { kind = "part", off = 0, len = n, part = PART_ORPHAN }
		end
	end

	local p = offset
	while p < len do
		local t = math.floor(data:get_index(p) / 16)
		if t == 0 then
			plan[#plan + 1] = { kind = "pad", off = p, len = len - p }
			break
		end
		local total = ip_length(data, p)
		if total == false then
			plan[#plan + 1] = { kind = "bad", off = p, len = len - p, why = t == 4 and
				"IPv4 total length below 20" or string.format("data block type %u", t) }
			break
		end
		if total and p + total <= len then
			plan[#plan + 1] = { kind = "inner", off = p, len = total }
			p = p + total
		else
			cur = { data = data:subset(p, len - p), total = total, frames = { frame } }
			plan[#plan + 1] = { kind = "part", off = p, len = len - p, pkt = cur,
				part = PART_FIRST, at = 0 }
			flow.expect = seq + 1
			p = len
		end
	end
	flow.cur = cur
	return plan
end

local ip_protos = { [1] = "ICMP", [6] = "TCP", [17] = "UDP", [58] = "ICMPv6" }

-- inner_label - "UDP 198.51.100.1 → 198.51.100.2" for the inner packet in
-- TVB (its IP header's protocol and addresses).
local function inner_label(tvb)
	local proto, src, dst
	if math.floor(tvb:range(0, 1):uint() / 16) == 6 then
		if tvb:len() < 40 then
			return "IPv6"
		end
		proto, src, dst = tvb:range(6, 1):uint(), tvb:range(8, 16):ipv6(), tvb:range(24, 16):ipv6()
	else
		if tvb:len() < 20 then
			return "IPv4"
		end
		proto, src, dst = tvb:range(9, 1):uint(), tvb:range(12, 4):ipv4(), tvb:range(16, 4):ipv4()
	end
	return string.format("%s %s \226\134\146 %s", ip_protos[proto] or ("proto " .. proto),
		tostring(src), tostring(dst))
end

-- dissect_inner - an inner packet in TVB handed to the IP dissector of
-- its version; the Info column keeps what the packets before it wrote.
local function dissect_inner(tvb, pinfo, tree, shown)
	pinfo.cols.info:append((shown > 0 and " | " or "") .. inner_label(tvb) .. ": ")
	pinfo.cols.info:fence()
	if math.floor(tvb:range(0, 1):uint() / 16) == 6 then
		ipv6_dissector:call(tvb, pinfo, tree)
	else
		ip_dissector:call(tvb, pinfo, tree)
	end
	return shown + 1
end

local function frame_list(item, field, frames)
	for _, fr in ipairs(frames) do
		item:add(field, fr):set_generated()
	end
end

function aggfrag.dissector(tvb, pinfo, tree)
	local plen = tvb:len()
	if plen < 1 then
		return 0
	end
	local subtype = tvb(0, 1):uint()
	local hlen = subtype == 1 and 24 or 4
	pinfo.cols.protocol:set("AGGFRAG")
	local root = tree:add(aggfrag, tvb())
	root:add(f.subtype, tvb(0, 1))
	if subtype > 1 then
		root:add_proto_expert_info(ei.subtype)
		pinfo.cols.info:set(string.format("AGGFRAG sub-type %u", subtype))
		return plen
	end
	if plen < hlen then
		root:add_proto_expert_info(ei.malformed,
			string.format("%u octets, the sub-type %u header has %u", plen, subtype, hlen))
		pinfo.cols.info:set(string.format("[AGGFRAG: %u octets, shorter than its header]", plen))
		return plen
	end
	local offset = tvb(2, 2):uint()
	if subtype == 0 then
		root:add(f.reserved, tvb(1, 1))
	else
		root:add(f.cc_reserved, tvb(1, 1))
		root:add(f.flag_p, tvb(1, 1))
		root:add(f.flag_e, tvb(1, 1))
	end
	root:add(f.block_offset, tvb(2, 2))
	if subtype == 1 then
		local d = tvb(8, 8)
		root:add(f.loss_event_rate, tvb(4, 4))
		root:add(f.rtt, d, d:bitfield(0, 22))
		root:add(f.echo_delay, d, d:bitfield(22, 21))
		root:add(f.transmit_delay, d, d:bitfield(43, 21))
		root:add(f.tval, tvb(16, 4))
		root:add(f.techo, tvb(20, 4))
	end

	local blocks = tvb:range(hlen, plen - hlen)
	local seq = last(esp_seq)
	local spi = last(esp_spi)
	local plan = frame_plans[pinfo.number]
	if not pinfo.visited or not plan then
		-- Without ESP's fields (another dissector gave us the payload)
		-- only the packets of this payload can be shown.
		local data = plen > hlen and blocks:bytes() or ByteArray.new()
		if seq and spi then
			local key = string.format("%s>%s/%u", tostring(pinfo.net_src),
				tostring(pinfo.net_dst), spi)
			flows[key] = flows[key] or {}
			plan = plan_payload(flows[key], seq, offset, data, pinfo.number)
		else
			plan = plan_payload({}, 0, offset, data, pinfo.number)
		end
		frame_plans[pinfo.number] = plan
	end

	local summary = {}
	local inner = {}
	local whole, whole_at = 0, nil
	for _, e in ipairs(plan) do
		local r = e.len > 0 and blocks:range(e.off, e.len) or nil
		if e.kind == "inner" then
			local it = root:add(f.block, r)
			it:set_text(string.format("Data block: %s packet, %u octets",
				block_types[math.floor(r:range(0, 1):uint() / 16)], e.len))
			it:add(f.block_type, r:range(0, 1))
			it:add(f.block_length, e.len):set_generated()
			inner[#inner + 1] = r:tvb()
			whole = whole + 1
			if whole == 1 then
				summary[#summary + 1] = "whole"
				whole_at = #summary
			end
		elseif e.kind == "pad" then
			root:add(f.pad, r):set_text(string.format("Pad data block: %u octets", e.len))
		elseif e.kind == "bad" then
			root:add_tvb_expert_info(ei.malformed, r or blocks, e.why)
			summary[#summary + 1] = "malformed"
		elseif e.kind == "lost" then
			root:add_proto_expert_info(ei.lost, string.format(
				"Inner packet begun in frame %u given up: %s", e.pkt.frames[1], e.why))
			summary[#summary + 1] = string.format("packet of frame %u lost", e.pkt.frames[1])
		elseif e.part == PART_ORPHAN then
			local it = root:add(f.fragment, r)
			it:set_text(string.format("Fragment: %u octets ending an inner packet whose start was not seen", e.len))
			it:add(f.fragment_part, e.part):set_generated()
			it:add_proto_expert_info(ei.orphan)
			summary[#summary + 1] = "end of a packet not seen"
		else
			local pkt = e.pkt
			local it = root:add(f.fragment, r)
			it:set_text(string.format("Fragment (%s part): octets %u-%u of a %s-octet inner packet",
				parts[e.part], e.at, e.at + e.len - 1,
				pkt.total and tostring(pkt.total) or "?"))
			it:add(f.fragment_part, e.part):set_generated()
			it:add(f.fragment_offset, e.at):set_generated()
			if e.part == PART_LAST and pkt.done_in then
				frame_list(it, f.fragment_frames, pkt.frames)
				it:add(f.reassembled_length, pkt.data:len()):set_generated()
				inner[#inner + 1] = pkt.data:tvb("Reassembled inner packet")
				summary[#summary + 1] = string.format("1 reassembled from %u", #pkt.frames)
			else
				if pkt.done_in then
					it:add(f.reassembled_in, pkt.done_in):set_generated()
				end
				summary[#summary + 1] = e.part == PART_FIRST and "1 begun" or "1 continued"
			end
		end
	end
	if whole_at then
		summary[whole_at] = string.format("%u whole", whole)
	elseif #summary == 0 then
		summary[1] = plen > hlen and "all pad" or "empty"
	end
	root:add(f.inner_count, #inner):set_generated()
	root:append_text(string.format(", sub-type %u, BlockOffset %u, inner packets: %u",
		subtype, offset, #inner))
	pinfo.cols.info:set(string.format("[AGGFRAG seq %s: %s] ",
		seq and tostring(seq) or "?", table.concat(summary, ", ")))
	pinfo.cols.info:fence()
	local shown = 0
	for _, t in ipairs(inner) do
		shown = dissect_inner(t, pinfo, tree, shown)
	end
	return plen
end

DissectorTable.get("ip.proto"):add(144, aggfrag)
