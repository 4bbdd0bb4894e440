// PcbIndex: internal to stack/. Finds a guest connection's pcb by its 4-tuple in constant time
// and hands each segment to lwIP so that lwIP's own lookup stops at once, whatever the number of
// connections open.
//
// lwIP demultiplexes a segment by walking its list of active pcbs (then TIME_WAIT, then
// listeners), moving the pcb it finds to the front. A SYN for a new connection, or a stray
// segment, matches nothing and walks everything; a segment for a connection that has been quiet
// while many others talked walks as far as it sank. With 10,000 flows open, new connections ran at
// 2,030/s against ~10,000/s with none, and echoing once on each of 10,000 flows walked 10,000
// pcbs per segment. The index tracks every connection pcb from its passive open to its free (a
// second extension-argument slot, whose destroy callback lwIP runs on every path that frees a
// pcb) and shadows the active list's order with links of its own, so that Deliver can:
//   - for a tuple with no pcb (new SYNs, strays): run tcp_input with the connection lists hidden,
//     so lwIP sees only the listener (pcbs it opens meanwhile go in front of the hidden ones);
//   - for an active connection: move its pcb to the front first (the shadow's back link is the
//     predecessor lwIP's singly linked list lacks), so lwIP's walk ends at its first element;
//   - for TIME_WAIT: hide the active list only.
// The shadow is a hint, never trusted: a link is used only after checking it against lwIP's
// list (a pcb lwIP moved to TIME_WAIT without telling anyone makes it stale), and a failed check
// rebuilds it from lwIP's list, counted in `resyncs`.
#pragma once

#include <lwip/tcp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "stack/flow.h"

struct netif;
struct pbuf;

namespace msb::stack {

struct IpPacket;

struct FlowTupleHash {
  size_t operator()(const FlowTuple& t) const;
};

class PcbIndex {
 public:
  PcbIndex() = default;
  // Detaches from the pcbs still tracked (the Netstack aborts them after its acceptor is gone).
  ~PcbIndex();
  PcbIndex(const PcbIndex&) = delete;
  PcbIndex& operator=(const PcbIndex&) = delete;

  // Track records `pcb` (a connection lwIP has just put at the head of its active list) under
  // `tuple` until lwIP frees it.
  void Track(tcp_pcb* pcb, const FlowTuple& tuple);
  // Find is the pcb, in any state but LISTEN, whose tuple this is; nullptr when there is none.
  tcp_pcb* Find(const FlowTuple& tuple) const;
  // Deliver runs tcp_input() on one segment of `tuple` (IP header at the payload), as described
  // in the file comment. Nothing lwIP calls back while lists are hidden may open, close or abort
  // another connection: only SYN handling and strays run hidden, and neither reaches the gateway.
  // Consumes `p`.
  void Deliver(pbuf* p, netif* inp, const IpPacket& pkt, const FlowTuple& tuple);

  size_t size() const { return entries_.size(); }
  // resyncs: how often the shadow order had to be rebuilt from lwIP's list.
  uint64_t resyncs() const { return resyncs_; }
  // ShadowMatchesLwip: the shadow order is exactly lwIP's active list (for tests).
  bool ShadowMatchesLwip() const;

 private:
  struct Entry {
    PcbIndex* owner;
    FlowTuple tuple;
    tcp_pcb* pcb;
    bool in_active = true;  // in the shadow of the active list
    Entry* prev = nullptr;
    Entry* next = nullptr;
  };
  static void Destroyed(u8_t id, void* data);
  static uint8_t SlotId();
  static Entry* EntryOf(const tcp_pcb* pcb);
  void Unlink(Entry* e);
  void PushFront(Entry* e);
  void Resync();
  // MoveToFront puts an active pcb at the head of lwIP's list; false if it is not on it.
  bool MoveToFront(Entry* e);

  std::unordered_map<FlowTuple, std::unique_ptr<Entry>, FlowTupleHash> entries_;
  Entry* head_ = nullptr;
  uint64_t resyncs_ = 0;
};

}  // namespace msb::stack
