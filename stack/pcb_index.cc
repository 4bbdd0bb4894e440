// PcbIndex: constant-time answers to "which pcb has this tuple", and tcp_input calls whose lookup
// stops at once (pcb_index.h explains why and how).
#include "stack/pcb_index.h"

#include "stack/lwip_glue.h"

namespace msb::stack {
namespace {

size_t Mix(size_t h, uint64_t v) {
  // splitmix64's finaliser over the running hash: cheap, and every input bit reaches every
  // output bit (guest ports are sequential, addresses mostly equal).
  uint64_t x = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<size_t>(x ^ (x >> 31));
}

size_t MixAddress(size_t h, const SocketAddress& a) {
  const auto& b = a.ip.bytes();
  uint64_t lo = 0;
  uint64_t hi = 0;
  for (size_t i = 0; i < 8; ++i) {
    lo = (lo << 8) | b[i];
    hi = (hi << 8) | b[i + 8];
  }
  h = Mix(h, lo);
  h = Mix(h, hi);
  return Mix(h, (uint64_t{a.port} << 8) | static_cast<uint64_t>(a.ip.family()));
}

// Appends `rest` after the last pcb of `head` (a list lwIP built while `rest` was hidden).
tcp_pcb* Splice(tcp_pcb* head, tcp_pcb* rest) {
  if (head == nullptr) {
    return rest;
  }
  tcp_pcb* tail = head;
  while (tail->next != nullptr) {
    tail = tail->next;
  }
  tail->next = rest;
  return head;
}

// InputHidden runs tcp_input() with lwIP's active list and/or TIME_WAIT list looking empty, then
// puts what lwIP added meanwhile in front of what was hidden.
void InputHidden(pbuf* p, netif* inp, const IpPacket& pkt, bool hide_active, bool hide_tw) {
  tcp_pcb* active = nullptr;
  tcp_pcb* time_wait = nullptr;
  if (hide_active) {
    active = tcp_active_pcbs;
    tcp_active_pcbs = nullptr;
  }
  if (hide_tw) {
    time_wait = tcp_tw_pcbs;
    tcp_tw_pcbs = nullptr;
  }
  DeliverToTcpInput(p, inp, pkt);
  if (hide_active) {
    tcp_active_pcbs = Splice(tcp_active_pcbs, active);
    tcp_active_pcbs_changed = 1;
  }
  if (hide_tw) {
    tcp_tw_pcbs = Splice(tcp_tw_pcbs, time_wait);
  }
}

}  // namespace

size_t FlowTupleHash::operator()(const FlowTuple& t) const {
  size_t h = static_cast<size_t>(t.transport);
  h = MixAddress(h, t.guest);
  return MixAddress(h, t.dest);
}

uint8_t PcbIndex::SlotId() {
  static const uint8_t id = tcp_ext_arg_alloc_id();
  return id;
}

PcbIndex::Entry* PcbIndex::EntryOf(const tcp_pcb* pcb) {
  return static_cast<Entry*>(tcp_ext_arg_get(pcb, SlotId()));
}

PcbIndex::~PcbIndex() {
  // lwIP keeps the callbacks (it accepts no null table); a null entry makes them no-ops.
  for (auto& [tuple, entry] : entries_) {
    tcp_ext_arg_set(entry->pcb, SlotId(), nullptr);
  }
}

void PcbIndex::Track(tcp_pcb* pcb, const FlowTuple& tuple) {
  static const tcp_ext_arg_callbacks kCallbacks = {Destroyed, nullptr};
  auto entry = std::make_unique<Entry>(Entry{this, tuple, pcb});
  tcp_ext_arg_set_callbacks(pcb, SlotId(), &kCallbacks);
  tcp_ext_arg_set(pcb, SlotId(), entry.get());
  PushFront(entry.get());  // lwIP registers a new pcb at the head of its active list
  // A stale entry for the same tuple cannot exist: its pcb's free would have erased it.
  entries_[tuple] = std::move(entry);
}

tcp_pcb* PcbIndex::Find(const FlowTuple& tuple) const {
  auto it = entries_.find(tuple);
  return it == entries_.end() ? nullptr : it->second->pcb;
}

void PcbIndex::Destroyed(u8_t /*id*/, void* data) {
  auto* entry = static_cast<Entry*>(data);
  if (entry == nullptr) {
    return;
  }
  PcbIndex* self = entry->owner;
  // lwIP has unlinked the pcb from its list already, joining the same neighbours the shadow
  // has when it is in step; when it is not, the next check finds out.
  self->Unlink(entry);
  auto it = self->entries_.find(entry->tuple);
  if (it != self->entries_.end() && it->second.get() == entry) {
    self->entries_.erase(it);  // frees `entry`
  }
}

void PcbIndex::Unlink(Entry* e) {
  if (!e->in_active) {
    return;
  }
  (e->prev != nullptr ? e->prev->next : head_) = e->next;
  if (e->next != nullptr) {
    e->next->prev = e->prev;
  }
  e->prev = e->next = nullptr;
  e->in_active = false;
}

void PcbIndex::PushFront(Entry* e) {
  e->prev = nullptr;
  e->next = head_;
  if (head_ != nullptr) {
    head_->prev = e;
  }
  head_ = e;
  e->in_active = true;
}

void PcbIndex::Resync() {
  ++resyncs_;
  for (auto& [tuple, entry] : entries_) {
    entry->in_active = false;
    entry->prev = entry->next = nullptr;
  }
  head_ = nullptr;
  Entry* last = nullptr;
  for (tcp_pcb* pcb = tcp_active_pcbs; pcb != nullptr; pcb = pcb->next) {
    Entry* e = EntryOf(pcb);
    if (e == nullptr) {
      continue;  // not ours (none are, today): MoveToFront's check then fails and lwIP walks
    }
    e->in_active = true;
    e->prev = last;
    (last != nullptr ? last->next : head_) = e;
    last = e;
  }
}

bool PcbIndex::MoveToFront(Entry* e) {
  tcp_pcb* pcb = e->pcb;
  auto in_step = [&] {
    return e->in_active &&
           (e->prev == nullptr ? tcp_active_pcbs == pcb && head_ == e : e->prev->pcb->next == pcb);
  };
  if (!in_step()) {
    Resync();
    if (!in_step()) {
      return false;
    }
  }
  if (e->prev == nullptr) {
    return true;  // already first
  }
  e->prev->pcb->next = pcb->next;
  pcb->next = tcp_active_pcbs;
  tcp_active_pcbs = pcb;
  tcp_active_pcbs_changed = 1;  // lwIP's timer loops restart when the list changes under them
  Unlink(e);
  PushFront(e);
  return true;
}

void PcbIndex::Deliver(pbuf* p, netif* inp, const IpPacket& pkt, const FlowTuple& tuple) {
  auto it = entries_.find(tuple);
  if (it == entries_.end()) {
    InputHidden(p, inp, pkt, /*hide_active=*/true, /*hide_tw=*/true);
    return;
  }
  Entry* e = it->second.get();
  tcp_pcb* pcb = e->pcb;
  if (pcb->state == TIME_WAIT) {
    Unlink(e);  // lwIP moved it there (the shadow may not know yet)
    InputHidden(p, inp, pkt, /*hide_active=*/true, /*hide_tw=*/false);
    return;
  }
  if (!MoveToFront(e)) {
    DeliverToTcpInput(p, inp, pkt);  // lwIP's own walk finds it wherever it is
    return;
  }
  DeliverToTcpInput(p, inp, pkt);
  // The segment may have ended the connection (freed: Destroyed unlinked it) or moved it to
  // TIME_WAIT, which lwIP does from the head of the list, where it now is.
  it = entries_.find(tuple);
  if (it != entries_.end() && it->second->pcb == pcb && pcb->state == TIME_WAIT) {
    Unlink(it->second.get());
  }
}

bool PcbIndex::ShadowMatchesLwip() const {
  const Entry* e = head_;
  for (const tcp_pcb* pcb = tcp_active_pcbs; pcb != nullptr; pcb = pcb->next) {
    if (e == nullptr || e->pcb != pcb || (e->next != nullptr && e->next->prev != e)) {
      return false;
    }
    e = e->next;
  }
  return e == nullptr;
}

}  // namespace msb::stack
