#pragma once
// Memory for the one asynchronous operation an object has under way at a time, kept in
// the object: the operation then allocates nothing. Asio's own per-thread cache is
// first-fit over a few blocks, so a small operation can take the block a larger one needs
// and the larger one allocates again, message after message. Bind it to a completion
// token with asio::bind_allocator(handler_allocator<void>(memory), token).

#include <cstddef>
#include <new>

namespace tether::client::detail {

// `Size` bytes inline; handler_memory fits a timer wait.
template <std::size_t Size>
class basic_handler_memory {
public:
    basic_handler_memory() = default;
    basic_handler_memory(const basic_handler_memory&) = delete;
    basic_handler_memory& operator=(const basic_handler_memory&) = delete;

    // The inline block when it is free and large enough, else the heap.
    void* allocate(std::size_t size) {
        if (!in_use_ && size <= sizeof(storage_)) {
            in_use_ = true;
            return storage_;
        }
        return ::operator new(size);
    }
    void deallocate(void* p) noexcept {
        if (p == storage_) {
            in_use_ = false;
        } else {
            ::operator delete(p);
        }
    }

private:
    alignas(std::max_align_t) unsigned char storage_[Size];
    bool in_use_ = false;
};

using handler_memory = basic_handler_memory<192>;  // a timer wait takes 168 bytes

template <class T, class Memory = handler_memory>
class handler_allocator {
public:
    using value_type = T;
    explicit handler_allocator(Memory& memory) noexcept : memory_(&memory) {}
    template <class U>
    handler_allocator(const handler_allocator<U, Memory>& other) noexcept : memory_(other.memory_) {}

    T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t) noexcept { memory_->deallocate(p); }
    template <class U>
    bool operator==(const handler_allocator<U, Memory>& other) const noexcept {
        return memory_ == other.memory_;
    }

private:
    template <class U, class M>
    friend class handler_allocator;
    Memory* memory_;
};

}  // namespace tether::client::detail
