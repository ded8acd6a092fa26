// Every layer library links this empty translation unit, so that a layer whose sources are
// still only headers is a valid static library.
namespace gw {
void layer_anchor() {}
}  // namespace gw
