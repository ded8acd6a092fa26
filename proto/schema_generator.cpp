// gw_protobuf_schema: writes the constexpr tables of codec/protobuf_schema.hpp for one .proto
// file, from the descriptor set protoc makes of it (`protoc --descriptor_set_out=...
// --include_imports`). Runs at build time; the gateway itself never links libprotobuf.
//
//   gw_protobuf_schema DESCRIPTOR_SET PROTO_FILE ROOT_MESSAGE FUNCTION OUTPUT.cpp
//   gw_protobuf_schema greekwire.desc greekwire.proto greekwire.v2.Envelope greekwire_schema x.cpp
//
// It reads the FileDescriptorProto messages directly (no DescriptorPool), so the custom option
// `json_array` (an extension the generator does not link) is read from the options' unknown
// fields, by the number the file declares for it.
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/unknown_field_set.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace pb = google::protobuf;

// One entry of the generated kFields table.
struct Entry {
  std::string name;
  int number = 0;
  std::string type;  // FieldType enumerator
  std::string role;  // FieldRole enumerator
  bool repeated = false;
  bool packed = false;
  int message = -1;
  int text = -1;
  int first = -1;
  int count = 0;
  int fallback = -1;
};

struct MessageOut {
  std::string name;
  int first = 0;
  int keys = 0;
  int size = 0;
  bool json_array = false;
  bool map_entry = false;
};

std::string field_type(const pb::FieldDescriptorProto& f) {
  using T = pb::FieldDescriptorProto;
  switch (f.type()) {
    case T::TYPE_DOUBLE:
      return "double_";
    case T::TYPE_FLOAT:
      return "float_";
    case T::TYPE_INT64:
      return "int64";
    case T::TYPE_UINT64:
      return "uint64";
    case T::TYPE_INT32:
      return "int32";
    case T::TYPE_UINT32:
      return "uint32";
    case T::TYPE_SINT64:
      return "sint64";
    case T::TYPE_SINT32:
      return "sint32";
    case T::TYPE_FIXED64:
      return "fixed64";
    case T::TYPE_FIXED32:
      return "fixed32";
    case T::TYPE_SFIXED64:
      return "sfixed64";
    case T::TYPE_SFIXED32:
      return "sfixed32";
    case T::TYPE_BOOL:
      return "bool_";
    case T::TYPE_ENUM:
      return "enum_";
    case T::TYPE_STRING:
      return "string";
    case T::TYPE_BYTES:
      return "bytes";
    case T::TYPE_MESSAGE:
      return "message";
    case T::TYPE_GROUP:
      break;
  }
  throw std::runtime_error("field " + f.name() + ": groups are not supported");
}

bool is_packable(const pb::FieldDescriptorProto& f) {
  using T = pb::FieldDescriptorProto;
  return f.type() != T::TYPE_STRING && f.type() != T::TYPE_BYTES && f.type() != T::TYPE_MESSAGE &&
         f.type() != T::TYPE_GROUP;
}

// The value of a bool extension of MessageOptions, from the options' unknown fields.
bool bool_option(const pb::MessageOptions& options, int number) {
  if (number <= 0) return false;
  const pb::UnknownFieldSet& unknown = options.GetReflection()->GetUnknownFields(options);
  for (int i = 0; i < unknown.field_count(); ++i) {
    const pb::UnknownField& field = unknown.field(i);
    if (field.number() == number && field.type() == pb::UnknownField::TYPE_VARINT) {
      return field.varint() != 0;
    }
  }
  return false;
}

// The field number of the extension `name` of google.protobuf.MessageOptions, declared in any
// file of the set (a file may use greekwire.proto's json_array by importing it).
int option_number(const pb::FileDescriptorSet& set, const std::string& name) {
  for (const pb::FileDescriptorProto& file : set.file()) {
    for (const pb::FieldDescriptorProto& ext : file.extension()) {
      if (ext.name() == name && ext.extendee() == ".google.protobuf.MessageOptions") {
        return ext.number();
      }
    }
  }
  return -1;
}

// Every message of the file, nested ones included, with its full name.
void collect(const std::string& scope, const pb::DescriptorProto& d,
             std::vector<std::pair<std::string, const pb::DescriptorProto*>>& out) {
  const std::string name = scope + "." + d.name();
  out.emplace_back(name, &d);
  for (const pb::DescriptorProto& nested : d.nested_type()) collect(name, nested, out);
}

class Generator {
 public:
  Generator(const pb::FileDescriptorSet& set, const pb::FileDescriptorProto& file) : file_(file) {
    const std::string scope = file.package().empty() ? "" : "." + file.package();
    for (const pb::DescriptorProto& d : file.message_type()) collect(scope, d, messages_);
    for (std::size_t i = 0; i < messages_.size(); ++i) {
      index_[messages_[i].first] = static_cast<int>(i);
    }
    json_array_number_ = option_number(set, "json_array");
  }

  std::string generate(const std::string& root, const std::string& function) {
    const auto it = index_.find("." + root);
    if (it == index_.end()) throw std::runtime_error("no message " + root);
    for (const auto& [name, d] : messages_) add_message(name, *d);
    if (entries_.size() > 32000) throw std::runtime_error("too many fields for int16 indices");
    return render(it->second, function);
  }

 private:
  int message_index(const pb::FieldDescriptorProto& f) const {
    if (f.type() != pb::FieldDescriptorProto::TYPE_MESSAGE) return -1;
    const auto it = index_.find(f.type_name());
    if (it == index_.end()) {
      throw std::runtime_error("field " + f.name() + ": message " + f.type_name() +
                               " is not in this file");
    }
    return it->second;
  }

  Entry field_entry(const pb::FieldDescriptorProto& f, const std::string& role) const {
    Entry e;
    e.name = f.name();
    e.number = f.number();
    e.type = field_type(f);
    e.role = role;
    e.repeated = f.label() == pb::FieldDescriptorProto::LABEL_REPEATED;
    e.packed = e.repeated && is_packable(f) && !(f.options().has_packed() && !f.options().packed());
    e.message = message_index(f);
    return e;
  }

  void add_message(const std::string& name, const pb::DescriptorProto& d) {
    MessageOut out;
    out.name = name.substr(1);
    out.first = static_cast<int>(entries_.size());
    out.json_array = bool_option(d.options(), json_array_number_);
    out.map_entry = d.options().map_entry();
    // The writer fills a map from a JSON object, whose keys are strings.
    if (out.map_entry && (d.field_size() != 2 || d.field(0).name() != "key" ||
                          d.field(0).type() != pb::FieldDescriptorProto::TYPE_STRING)) {
      throw std::runtime_error(out.name + ": only maps with string keys are supported");
    }

    // A real oneof (not proto3 `optional`'s synthetic one) is a choice when no field carries its
    // name; a field `<x>_text` beside `<x>` in a oneof is x's alternative.
    auto has_field = [&d](const std::string& field_name, int oneof) {
      for (const pb::FieldDescriptorProto& f : d.field()) {
        if (f.name() == field_name && (oneof < 0 || (f.has_oneof_index() && !f.proto3_optional() &&
                                                     f.oneof_index() == oneof))) {
          return true;
        }
      }
      return false;
    };
    auto real_oneof = [](const pb::FieldDescriptorProto& f) {
      return f.has_oneof_index() && !f.proto3_optional() ? f.oneof_index() : -1;
    };
    auto is_alternative = [&](const pb::FieldDescriptorProto& f) {
      const std::string& n = f.name();
      const int oneof = real_oneof(f);
      return oneof >= 0 && n.size() > 5 && n.compare(n.size() - 5, 5, "_text") == 0 &&
             has_field(n.substr(0, n.size() - 5), oneof);
    };
    // A oneof of a field and its alternative is not a choice ("id" and "id_text").
    auto is_choice = [&](int oneof) {
      if (oneof < 0 || has_field(d.oneof_decl(oneof).name(), -1)) return false;
      for (const pb::FieldDescriptorProto& f : d.field()) {
        if (real_oneof(f) == oneof && is_alternative(f)) return false;
      }
      return true;
    };

    // Keys, in declaration order: a choice takes the place of its oneof's first member.
    std::map<int, int> choice_entry;  // oneof index -> entry index
    for (const pb::FieldDescriptorProto& f : d.field()) {
      const int oneof = real_oneof(f);
      if (is_choice(oneof)) {
        if (choice_entry.count(oneof)) continue;
        Entry c;
        c.name = d.oneof_decl(oneof).name();
        c.type = "choice";
        c.role = "choice";
        choice_entry[oneof] = static_cast<int>(entries_.size());
        entries_.push_back(c);
      } else if (!is_alternative(f)) {
        entries_.push_back(field_entry(f, "keyed"));
      }
    }
    out.keys = static_cast<int>(entries_.size()) - out.first;
    if (out.json_array && !choice_entry.empty()) {
      throw std::runtime_error(out.name + ": a json_array message cannot have a choice oneof");
    }
    // Then each choice's members (contiguous), then the alternatives.
    for (const auto& [oneof, at] : choice_entry) {
      entries_[static_cast<std::size_t>(at)].first = static_cast<int>(entries_.size());
      const std::string fallback = d.oneof_decl(oneof).name() + "_json";
      for (const pb::FieldDescriptorProto& f : d.field()) {
        if (real_oneof(f) != oneof) continue;
        if (f.name() == fallback) {
          if (f.type() != pb::FieldDescriptorProto::TYPE_STRING) {
            throw std::runtime_error(fallback + " must be a string");
          }
          entries_[static_cast<std::size_t>(at)].fallback = static_cast<int>(entries_.size());
        }
        entries_.push_back(field_entry(f, f.name() == fallback ? "json" : "member"));
        ++entries_[static_cast<std::size_t>(at)].count;
      }
    }
    for (const pb::FieldDescriptorProto& f : d.field()) {
      if (!is_alternative(f)) continue;
      if (f.type() != pb::FieldDescriptorProto::TYPE_STRING) {
        throw std::runtime_error(f.name() + " must be a string");
      }
      const std::string base = f.name().substr(0, f.name().size() - 5);
      for (int i = out.first; i < out.first + out.keys; ++i) {
        if (entries_[static_cast<std::size_t>(i)].name == base) {
          entries_[static_cast<std::size_t>(i)].text = static_cast<int>(entries_.size());
        }
      }
      entries_.push_back(field_entry(f, "alternative"));
    }
    out.size = static_cast<int>(entries_.size()) - out.first;
    out_.push_back(out);
  }

  std::string render(int root, const std::string& function) const {
    std::ostringstream s;
    s << "// Generated from " << file_.name()
      << " by gw_protobuf_schema (proto/schema_generator.cpp). Do not edit.\n"
      << "#include \"codec/protobuf_schema.hpp\"\n\n"
      << "namespace gw::codec::protobuf {\n\nnamespace {\n\n"
      << "constexpr Field kFields[] = {\n";
    for (const MessageOut& m : out_) {
      s << "    // " << m.name << "\n";
      for (int i = m.first; i < m.first + m.size; ++i) {
        const Entry& e = entries_[static_cast<std::size_t>(i)];
        s << "    {\"" << e.name << "\", " << e.number << ", FieldType::" << e.type
          << ", FieldRole::" << e.role << ", " << (e.repeated ? "true" : "false") << ", "
          << (e.packed ? "true" : "false") << ", " << e.message << ", " << e.text << ", " << e.first
          << ", " << e.count << ", " << e.fallback << "},  // " << i << "\n";
      }
    }
    s << "};\n\nconstexpr Message kMessages[] = {\n";
    for (std::size_t i = 0; i < out_.size(); ++i) {
      const MessageOut& m = out_[i];
      s << "    {\"" << m.name << "\", " << m.first << ", " << m.keys << ", " << m.size << ", "
        << (m.json_array ? "true" : "false") << ", " << (m.map_entry ? "true" : "false")
        << "},  // " << i << "\n";
    }
    s << "};\n\nconstexpr Schema kSchema{kMessages, kFields, " << root << "};\n\n"
      << "}  // namespace\n\n"
      << "const Schema& " << function << "() {\n  return kSchema;\n}\n\n"
      << "}  // namespace gw::codec::protobuf\n";
    return s.str();
  }

  const pb::FileDescriptorProto& file_;
  std::vector<std::pair<std::string, const pb::DescriptorProto*>> messages_;
  std::map<std::string, int> index_;
  int json_array_number_ = -1;
  std::vector<Entry> entries_;
  std::vector<MessageOut> out_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s DESCRIPTOR_SET PROTO_FILE ROOT_MESSAGE FUNCTION OUTPUT.cpp\n",
                 argv[0]);
    return 2;
  }
  int status = 0;
  try {
    pb::FileDescriptorSet set;
    std::ifstream in(argv[1], std::ios::binary);
    if (!in || !set.ParseFromIstream(&in)) throw std::runtime_error("cannot read descriptor set");
    const pb::FileDescriptorProto* file = nullptr;
    for (const pb::FileDescriptorProto& f : set.file()) {
      if (f.name() == argv[2]) file = &f;
    }
    if (file == nullptr) throw std::runtime_error(std::string("no file ") + argv[2] + " in set");
    const std::string text = Generator(set, *file).generate(argv[3], argv[4]);
    std::ofstream out(argv[5], std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error(std::string("cannot write ") + argv[5]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gw_protobuf_schema: %s\n", e.what());
    status = 1;
  }
  pb::ShutdownProtobufLibrary();
  return status;
}
