// Links every object of libgreekwire_client.a, used or not (CMakeLists.txt): nothing in the
// library may need more than the package's dependencies provide.
int main() {
  return 0;
}
