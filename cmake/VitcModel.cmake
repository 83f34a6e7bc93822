# vit_add_model: compile a ViT with vitc at build time and link it like a library.
#
#   vit_add_model(<target>
#     MODEL <zoo name> | CONFIG <config.json>       # what model
#     [WEIGHTS <checkpoint> | RANDOM_WEIGHTS <seed>] # its weights (written beside the library)
#     [TARGET <halide target>]                      # default: host
#     [PRECISION f32|int8|bf16]                     # the encoder's GEMMs; default: f32
#     [ATTENTION_MAPS class|rollout]                # also return attention maps (vitrt_run_ex)
#     [VITC_ARGS <more vitc flags>...])
#
# Produces lib<target>.a, <target>.h (declares <target>_model()) and <target>.safetensors in
# ${CMAKE_CURRENT_BINARY_DIR}/<target>.vitc/, and an INTERFACE target <target> that links the
# model with libvitrt. The target's VITC_WEIGHTS property is the weights file's path.
# vitc comes from this project's `vitc` target, from find_package(vitc) (vitc::vitc), or from
# VITC_EXECUTABLE / the PATH.
function(vit_add_model target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "MODEL;CONFIG;WEIGHTS;RANDOM_WEIGHTS;TARGET;PRECISION;ATTENTION_MAPS"
                        "VITC_ARGS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "vit_add_model(${target}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if((ARG_MODEL AND ARG_CONFIG) OR (NOT ARG_MODEL AND NOT ARG_CONFIG))
    message(FATAL_ERROR "vit_add_model(${target}): give exactly one of MODEL and CONFIG")
  endif()
  if(ARG_WEIGHTS AND DEFINED ARG_RANDOM_WEIGHTS)
    message(FATAL_ERROR "vit_add_model(${target}): give at most one of WEIGHTS and RANDOM_WEIGHTS")
  endif()
  if(NOT ARG_TARGET)
    set(ARG_TARGET host)
  endif()
  if(NOT ARG_PRECISION)
    set(ARG_PRECISION f32)
  endif()
  if(NOT ARG_PRECISION MATCHES "^(f32|int8|bf16)$")
    message(FATAL_ERROR "vit_add_model(${target}): PRECISION must be f32, int8 or bf16, got '${ARG_PRECISION}'")
  endif()
  if(TARGET vitc)
    set(vitc $<TARGET_FILE:vitc>)
    set(vitc_depends vitc)
  elseif(TARGET vitc::vitc) # find_package(vitc)
    set(vitc $<TARGET_FILE:vitc::vitc>)
    set(vitc_depends vitc::vitc)
  else()
    find_program(VITC_EXECUTABLE vitc REQUIRED)
    set(vitc ${VITC_EXECUTABLE})
    set(vitc_depends ${VITC_EXECUTABLE})
  endif()

  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${target}.vitc)
  set(library ${dir}/lib${target}.a)
  set(outputs ${library} ${dir}/${target}.h)
  set(args --name ${target} --target ${ARG_TARGET} --precision ${ARG_PRECISION} --emit=lib
           -o ${library})
  if(ARG_ATTENTION_MAPS)
    if(NOT ARG_ATTENTION_MAPS MATCHES "^(class|rollout)$")
      message(FATAL_ERROR "vit_add_model(${target}): ATTENTION_MAPS must be class or rollout, got '${ARG_ATTENTION_MAPS}'")
    endif()
    list(APPEND args --attention-maps=${ARG_ATTENTION_MAPS})
  endif()
  set(depends ${vitc_depends})
  if(ARG_MODEL)
    list(APPEND args --model ${ARG_MODEL})
  else()
    get_filename_component(config ${ARG_CONFIG} ABSOLUTE)
    list(APPEND args --config ${config})
    list(APPEND depends ${config})
  endif()
  if(ARG_WEIGHTS)
    get_filename_component(weights ${ARG_WEIGHTS} ABSOLUTE)
    list(APPEND args --weights ${weights})
    list(APPEND depends ${weights})
    list(APPEND outputs ${dir}/${target}.safetensors)
  elseif(DEFINED ARG_RANDOM_WEIGHTS)
    list(APPEND args --random-weights ${ARG_RANDOM_WEIGHTS})
    list(APPEND outputs ${dir}/${target}.safetensors)
  endif()
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${vitc} ${args} ${ARG_VITC_ARGS}
    DEPENDS ${depends}
    COMMENT "vitc: compiling model ${target} for ${ARG_TARGET} (${ARG_PRECISION})"
    VERBATIM)
  add_custom_target(${target}_vitc DEPENDS ${outputs})

  find_package(Threads REQUIRED)
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_vitc)
  target_include_directories(${target} INTERFACE ${dir})
  if(TARGET vitrt)
    set(runtime vitrt)
  else()
    set(runtime vitc::vitrt)
  endif()
  target_link_libraries(${target} INTERFACE ${library} ${runtime} Threads::Threads ${CMAKE_DL_LIBS} m)
  set_target_properties(${target} PROPERTIES VITC_WEIGHTS ${dir}/${target}.safetensors)
endfunction()
